package shop.store;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;

import java.util.Comparator;
import java.util.stream.Stream;

import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * The H2 backend, with three changes. Documents are stored as BSON (see
 * BsonDocumentType). Queries hand out copies of the stored documents: an
 * update changes nested values of what it was given in place, and MVStore's
 * background writer may be serializing that very document (a
 * ConcurrentModificationException there closes the map for good). And a
 * query that pins a unique index's field
 * (`{_id: x, status: "PENDING"}`) reads the documents that index points to and
 * filters those, where the stock backend uses an index only when the query
 * names exactly its fields, and otherwise scans the whole collection. The
 * services' conditional updates all pin `_id`, so without this each one would
 * cost more as the collection grows.
 */
final class UniqueIndexedBackend extends H2Backend {

    UniqueIndexedBackend(MVStore store) {
        super(store);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        return new Database(databaseName, getMvStore(), getCursorRegistry());
    }

    /** Not static: it reads the store through the backend, as its super constructor already opens collections. */
    private final class Database extends H2Database {
        // The map names of the stock H2Database, so existing files open unchanged.
        private static final String DATA_PREFIX = "databases.";
        private static final String META_PREFIX = "meta.";

        Database(String name, MVStore store, CursorRegistry cursors) {
            super(name, store, cursors);
        }

        @Override
        protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
            String fullName = getFullCollectionNamespace(collectionName);
            MVMap<Object, Document> data = getMvStore().openMap(DATA_PREFIX + fullName, new MVMap.Builder<Object, Document>().valueType(BsonDocumentType.INSTANCE));
            MVMap<String, Object> meta = getMvStore().openMap(META_PREFIX + fullName);
            return new Collection(this, collectionName, options, data, meta, cursorRegistry);
        }
    }

    private static final class Collection extends H2Collection {
        Collection(MongoDatabase database, String name, CollectionOptions options, MVMap<Object, Document> data,
                   MVMap<String, Object> meta, CursorRegistry cursors) {
            super(database, name, options, data, meta, cursors);
        }

        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int skip, int limit, int batchSize,
                                             Document fieldSelector) {
            for (Index<Object> index : getIndexes()) {
                if (index.getKeys().size() != 1) continue;
                String field = index.getKeys().get(0).getKey();
                if (!query.containsKey(field) || query.size() == 1) continue;
                Document pinned = new Document(field, query.get(field));
                if (index.canHandle(pinned)) {
                    return matchDocuments(query, index.getPositions(pinned), orderBy, skip, limit, batchSize, fieldSelector);
                }
            }
            return super.queryDocuments(query, orderBy, skip, limit, batchSize, fieldSelector);
        }

        @Override
        protected QueryResult matchDocumentsFromStream(Document query, Stream<Document> documents, int skip, int limit,
                                                       int batchSize, Comparator<Document> comparator, Document fieldSelector) {
            Stream<Document> copies = documents.filter(document -> documentMatchesQuery(document, query)).map(Document::cloneDeeply);
            return super.matchDocumentsFromStream(query, copies, skip, limit, batchSize, comparator, fieldSelector);
        }
    }
}
