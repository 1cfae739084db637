package shop.store;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.bson.Document;

/**
 * A non-unique index on one field, which mongo-java-server does not have (it
 * accepts the index and scans the collection). Kept in memory: it is built
 * from the documents when the index is opened (on createIndexes, and when the
 * store starts again) and follows every insert, update and delete after that.
 * It answers equality and $in; anything else is left to a scan.
 */
final class SecondaryIndex extends Index<Object> {

    private static final String ID_FIELD = "_id";

    private final Map<KeyValue, Set<Object>> positions = new HashMap<>();

    SecondaryIndex(String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
    }

    /** One top-level field (a query's value then makes its key as a document's does). */
    static boolean supports(List<IndexKey> keys) {
        return keys.size() == 1 && !keys.get(0).getKey().contains(".");
    }

    private String field() {
        return getKeys().get(0).getKey();
    }

    @Override
    public Object getPosition(Document document) {
        return null; // a value here identifies no single document
    }

    @Override
    public void checkAdd(Document document, MongoCollection<Object> collection) {
        // any value may repeat
    }

    @Override
    public synchronized void add(Document document, Object position, MongoCollection<Object> collection) {
        if (isSparse() && !document.containsKey(field())) return;
        for (KeyValue key : getKeyValues(document)) {
            positions.computeIfAbsent(key, k -> new LinkedHashSet<>()).add(position);
        }
    }

    @Override
    public synchronized Object remove(Document document) {
        Object position = document.get(ID_FIELD); // the H2 backend's position is the document's _id
        for (KeyValue key : getKeyValues(document)) {
            Set<Object> at = positions.get(key);
            if (at == null) continue;
            at.remove(position);
            if (at.isEmpty()) positions.remove(key);
        }
        return position;
    }

    @Override
    public boolean canHandle(Document query) {
        if (!query.keySet().equals(Set.of(field()))) return false;
        Object value = query.get(field());
        if (!(value instanceof Document condition)) return true;
        return condition.keySet().equals(Set.of("$in")) && condition.get("$in") instanceof Collection;
    }

    @Override
    public synchronized Iterable<Object> getPositions(Document query) {
        Object value = query.get(field());
        Collection<?> values = value instanceof Document condition ? (Collection<?>) condition.get("$in") : List.of(value);
        Set<Object> found = new LinkedHashSet<>();
        for (Object each : values) {
            for (KeyValue key : keysOf(each)) {
                Set<Object> at = positions.get(key);
                if (at != null) found.addAll(at);
            }
        }
        return new ArrayList<>(found);
    }

    /** The keys a document holding `value` in the field is indexed under (normalized as add() does). */
    private Set<KeyValue> keysOf(Object value) {
        return getKeyValues(new Document(field(), value));
    }

    /** How many documents a query would read through this index: the planner picks the smallest. */
    synchronized int size(Document query) {
        Object value = query.get(field());
        Collection<?> values = value instanceof Document condition ? (Collection<?>) condition.get("$in") : List.of(value);
        int size = 0;
        for (Object each : values) {
            for (KeyValue key : keysOf(each)) {
                Set<Object> at = positions.get(key);
                if (at != null) size += at.size();
            }
        }
        return size;
    }

    @Override
    public synchronized long getCount() {
        return positions.values().stream().mapToLong(Set::size).sum();
    }

    @Override
    public long getDataSize() {
        return getCount();
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<Object> collection) {
        // any value may repeat
    }

    @Override
    public synchronized void updateInPlace(Document oldDocument, Document newDocument, Object position, MongoCollection<Object> collection) {
        remove(oldDocument);
        add(newDocument, position, collection);
    }

    @Override
    public synchronized void drop() {
        positions.clear();
    }
}
