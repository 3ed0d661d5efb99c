// Runs Debezium's PostgreSQL connector in the embedded engine against one database and writes
// every record it emits as one JSON line {"topic", "key", "value"} (key/value: the JSON
// converter's output with schemas disabled; value null for a tombstone). Driven by
// scripts/debezium/generate-fixtures (see docs/debezium.md, "Golden fixtures"):
//
//   java -cp LIBS:CLASSES GenerateFixtures HOST PORT USER DB TABLES DECIMAL_MODE CHANGES_JSON OUT SNAPSHOT_ROWS
//
// It waits for SNAPSHOT_ROWS snapshot records (op "r"), runs each statement of CHANGES_JSON (a
// JSON array) in its own transaction, waits for the record of the last table in TABLES (the
// scenario's marker row), then stops the engine (which drops its slot).
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import java.io.File;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

public class GenerateFixtures {
  public static void main(String[] args) throws Exception {
    String host = args[0], port = args[1], user = args[2], db = args[3], tables = args[4], mode = args[5];
    File changesFile = new File(args[6]);
    File out = new File(args[7]);
    int snapshotRows = Integer.parseInt(args[8]);
    String[] tableList = tables.split(",");
    String markerTable = tableList[tableList.length - 1];
    ObjectMapper mapper = new ObjectMapper();

    Properties p = new Properties();
    p.setProperty("name", "fixtures");
    p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    p.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
    p.setProperty("offset.flush.interval.ms", "0");
    p.setProperty("database.hostname", host);
    p.setProperty("database.port", port);
    p.setProperty("database.user", user);
    p.setProperty("database.password", "");
    p.setProperty("database.dbname", db);
    p.setProperty("topic.prefix", "fixtures");
    p.setProperty("plugin.name", "pgoutput");
    p.setProperty("slot.name", "dbz_fixtures_" + mode);
    p.setProperty("slot.drop.on.stop", "true");
    p.setProperty("publication.name", "dbz_fixtures_" + mode);
    p.setProperty("publication.autocreate.mode", "filtered");
    p.setProperty("table.include.list", tables);
    p.setProperty("snapshot.mode", "initial");
    p.setProperty("decimal.handling.mode", mode);
    p.setProperty("tombstones.on.delete", "true");
    // Debezium skips truncates unless told otherwise (skipped.operations defaults to "t").
    p.setProperty("skipped.operations", "none");
    p.setProperty("converter.schemas.enable", "false");
    p.setProperty("key.converter.schemas.enable", "false");
    p.setProperty("value.converter.schemas.enable", "false");

    AtomicInteger snapshotSeen = new AtomicInteger();
    CountDownLatch snapshotDone = new CountDownLatch(1);
    CountDownLatch markerSeen = new CountDownLatch(1);
    PrintWriter writer = new PrintWriter(out, StandardCharsets.UTF_8);

    DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class)
        .using(p)
        .notifying(record -> {
          String value = record.value();
          synchronized (writer) {
            writer.println("{\"topic\":" + quote(record.destination()) + ",\"key\":" + (record.key() == null ? "null" : record.key())
                + ",\"value\":" + (value == null ? "null" : value) + "}");
            writer.flush();
          }
          if (value != null) {
            try {
              JsonNode v = mapper.readTree(value);
              if ("r".equals(v.path("op").asText()) && snapshotSeen.incrementAndGet() == snapshotRows) snapshotDone.countDown();
            } catch (Exception e) {
              throw new RuntimeException(e);
            }
          }
          if (record.destination().equals("fixtures." + markerTable)) markerSeen.countDown();
        })
        .using((success, message, error) -> {
          if (!success) {
            System.err.println("engine stopped: " + message);
            if (error != null) error.printStackTrace();
            System.exit(2);
          }
        })
        .build();
    ExecutorService executor = Executors.newSingleThreadExecutor();
    executor.execute(engine);

    if (!snapshotDone.await(180, TimeUnit.SECONDS)) fail("snapshot: saw " + snapshotSeen.get() + " of " + snapshotRows + " rows");
    // The streaming phase starts right after the snapshot; give it a moment to attach to the slot.
    Thread.sleep(2000);
    JsonNode statements = mapper.readTree(changesFile);
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + db, user, "")) {
      c.setAutoCommit(true);
      for (JsonNode s : statements) {
        try (Statement st = c.createStatement()) {
          st.execute(s.asText());
        }
      }
    }
    if (!markerSeen.await(180, TimeUnit.SECONDS)) fail("no record of the marker table " + markerTable);
    engine.close();
    executor.shutdown();
    executor.awaitTermination(60, TimeUnit.SECONDS);
    writer.close();
    System.exit(0);
  }

  private static void fail(String message) {
    System.err.println("GenerateFixtures: " + message);
    System.exit(1);
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
