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
import java.util.List;
import java.util.stream.Stream;

import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * The H2 backend, with four changes:
 * - non-unique indexes on one field exist (SecondaryIndex); the stock backend
 *   accepts them and scans the collection;
 * - a query reads through the index of a field it pins, even with other
 *   conditions (`{_id: x, status: "PENDING"}`): a unique index first, else the
 *   secondary index with the fewest documents for it; the stock backend uses an
 *   index only when the query names exactly its fields, so every conditional
 *   update scanned the collection;
 * - documents are stored as BSON (BsonDocumentType), not Java-serialized;
 * - queries hand out copies of the stored documents: an update changes what it
 *   was given in place, and MVStore's background writer may be serializing that
 *   very document (a ConcurrentModificationException there closes the map).
 */
final class IndexedH2Backend extends H2Backend {

    IndexedH2Backend(MVStore store) {
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
        protected Index<Object> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
            if (SecondaryIndex.supports(keys)) return new SecondaryIndex(indexName, keys, sparse);
            return super.openOrCreateSecondaryIndex(collectionName, indexName, keys, sparse); // compound: ignored, as before
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

        /** Through a unique index the query pins, else the secondary index with the fewest documents for it, else a scan. */
        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int skip, int limit, int batchSize,
                                             Document fieldSelector) {
            Index<Object> narrowest = null;
            Document narrowestPin = null;
            int fewest = Integer.MAX_VALUE;
            for (Index<Object> index : getIndexes()) {
                if (index.getKeys().size() != 1) continue;
                String field = index.getKeys().get(0).getKey();
                if (!query.containsKey(field)) continue;
                Document pinned = new Document(field, query.get(field));
                if (!index.canHandle(pinned)) continue;
                if (index.isUnique()) {
                    return matchDocuments(query, index.getPositions(pinned), orderBy, skip, limit, batchSize, fieldSelector);
                }
                int size = ((SecondaryIndex) index).size(pinned);
                if (size < fewest) {
                    narrowest = index;
                    narrowestPin = pinned;
                    fewest = size;
                }
            }
            if (narrowest != null) {
                return matchDocuments(query, narrowest.getPositions(narrowestPin), orderBy, skip, limit, batchSize, fieldSelector);
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
