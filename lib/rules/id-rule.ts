// The rule every id parameter follows. Ids are UUIDs here, but any non-empty
// string of sane length is accepted, so a wrong id is a 404, not a 422.
export const idRule = { type: "string", min: 1, max: 64 } as const;
