package shop.store;

import java.nio.file.Files;
import java.nio.file.Path;

import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoServer;

/**
 * A MongoDB wire-protocol server for local clusters, tests and the bench:
 * mongo-java-server on an MVStore file. Each collection applies update,
 * findAndModify, insert and delete one at a time, so conditional updates and
 * unique-index races are atomic, as on MongoDB.
 *
 * Usage: StoreServer HOST PORT FILE [COMMIT_MS]
 */
public final class StoreServer {

    /** As often as MongoDB's journal commits (100 ms): a killed store loses at most that much. */
    private static final int DEFAULT_COMMIT_MS = 100;
    private static final int CACHE_MB = 512;

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: StoreServer HOST PORT FILE [COMMIT_MS]");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        Path file = Path.of(args[2]);
        int commitMs = args.length > 3 ? Integer.parseInt(args[3]) : DEFAULT_COMMIT_MS;

        Files.createDirectories(file.toAbsolutePath().getParent());
        // A page cache that holds the working set of a long run (MVStore's default is 16 MB).
        MVStore store = new MVStore.Builder().fileName(file.toString()).cacheSize(CACHE_MB).open();
        store.setAutoCommitDelay(commitMs);
        IndexedH2Backend backend = new IndexedH2Backend(store);
        MongoServer server = new MongoServer(backend);
        server.bind(host, port);
        System.out.printf("store: listening on %s:%d, file %s, commit every %d ms%n", host, port, file, commitMs);

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdownNow();
            backend.close(); // commits what the last interval has not
        }));
        Thread.currentThread().join();
    }
}
