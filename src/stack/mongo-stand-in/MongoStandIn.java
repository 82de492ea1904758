import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * A MongoDB wire-protocol server in memory (mongo-java-server), the stand-in for MongoDB in tests
 * where MongoDB itself cannot be installed. Run with Java's source launcher:
 *   java -cp '<libs>/*' MongoStandIn.java <host> <port>
 * It reports MongoDB 5.0 (wire version 8); the mongodb driver 6.x accepts that, 7.x does not.
 */
public class MongoStandIn {
  public static void main(String[] args) throws Exception {
    MongoServer server = new MongoServer(new MemoryBackend().version(ServerVersion.MONGO_5_0));
    server.bind(args[0], Integer.parseInt(args[1]));
    System.out.println("mongo stand-in listening on " + server.getLocalAddress());
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    Thread.currentThread().join();
  }
}
