package io.github.flinkkafkakit.testing;

import org.apache.flink.annotation.PublicEvolving;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A single-node KRaft broker (combined broker + controller) in its <em>own JVM process</em>, for
 * tests that kill the broker the hard way and bring it back: {@link #kill()} sends SIGKILL, {@link
 * #restart()} starts a new process on the same ports with the same log directories, so clients see
 * the same broker go away and come back, as after a machine crash.
 *
 * <p>The process runs {@code kafka.Kafka server.properties} with the current JVM's classpath (the
 * {@code kafka_2.13} jar that this module brings through {@code kafka-test-common-runtime}); the
 * storage is formatted once with {@code kafka.tools.StorageTool format --standalone}, also in a
 * child JVM because the tool may call {@code System.exit}. Listeners are on 127.0.0.1 only; the
 * broker uses the same single-node settings as {@link EmbeddedKafkaBroker} (replication factor 1,
 * {@code transaction.state.log.min.isr=1}, {@code group.initial.rebalance.delay.ms=0}). Its output
 * goes to {@link #logFile()}. Start-up takes about 2 s (longer after a SIGKILL: log recovery) and
 * the process uses about 400 MB.
 *
 * <pre>{@code
 * try (BrokerProcess broker = BrokerProcess.start()) {
 *     KafkaTestClient kafka = broker.client();
 *     ...
 *     broker.kill();     // SIGKILL; clients now see connection refused
 *     broker.restart();  // same port, same data; returns when the broker answers again
 * }
 * }</pre>
 *
 * <p>{@link #close()} kills the process and deletes its directory. A JVM shutdown hook kills the
 * process too, so a crashed test does not leave a broker behind.
 */
@PublicEvolving
public final class BrokerProcess implements KafkaBroker {

    /** How long {@link #start} and {@link #restart} wait for the broker to answer. */
    public static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(2);

    private final Path dir;
    private final Path config;
    private final Path logFile;
    private final int port;
    private final String bootstrapServers;
    private final Thread shutdownHook;
    private Process process;
    private int starts;

    private BrokerProcess(Path dir, int port, int controllerPort, Map<String, String> overrides)
            throws IOException {
        this.dir = dir;
        this.port = port;
        this.bootstrapServers = "127.0.0.1:" + port;
        this.config = dir.resolve("server.properties");
        this.logFile = dir.resolve("broker.log");
        Map<String, String> props = new LinkedHashMap<>();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put(
                "listeners",
                "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
        props.put("log.dirs", dir.resolve("data").toAbsolutePath().toString());
        props.putAll(EmbeddedKafkaBroker.singleNodeDefaults());
        props.putAll(overrides);
        StringBuilder text = new StringBuilder("# written by " + getClass().getName() + "\n");
        props.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Files.writeString(config, text.toString(), StandardCharsets.UTF_8);
        this.shutdownHook = new Thread(this::destroyProcess, "kill broker process " + port);
    }

    /** Formats storage in a new temporary directory and starts a broker with default settings. */
    public static BrokerProcess start() {
        return start(Map.of());
    }

    /**
     * Formats storage in a new temporary directory (under {@code java.io.tmpdir}) and starts a
     * broker whose single-node defaults are overridden by {@code brokerProperties}; returns when
     * the broker answers an Admin request.
     *
     * @throws IllegalStateException when formatting or start-up fails (the message has the tail of
     *     the broker's output)
     */
    public static BrokerProcess start(Map<String, String> brokerProperties) {
        BrokerProcess broker = null;
        try {
            Path dir = Files.createTempDirectory("kafka-broker-process-");
            int[] ports = freePorts(2);
            broker = new BrokerProcess(dir, ports[0], ports[1], brokerProperties);
            Runtime.getRuntime().addShutdownHook(broker.shutdownHook);
            broker.format();
            broker.launch();
            return broker;
        } catch (IOException e) {
            if (broker != null) {
                broker.close();
            }
            throw new UncheckedIOException("Could not start a Kafka broker process", e);
        } catch (RuntimeException e) {
            if (broker != null) {
                broker.close();
            }
            throw e;
        }
    }

    /** Two distinct free loopback ports (opened by the OS, then closed again). */
    private static int[] freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
                sockets.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    private static List<String> javaCommand(String mainClass, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        command.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(List.of(args));
        return command;
    }

    private void format() throws IOException {
        ProcessBuilder builder =
                new ProcessBuilder(
                                javaCommand(
                                        "kafka.tools.StorageTool",
                                        "format",
                                        "--cluster-id",
                                        Uuid.randomUuid().toString(),
                                        "--config",
                                        config.toString(),
                                        "--standalone"))
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve("format.log").toFile());
        Process format = builder.start();
        try {
            if (!format.waitFor(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                format.destroyForcibly();
                throw new IllegalStateException(
                        "Formatting Kafka storage did not finish within " + STARTUP_TIMEOUT);
            }
        } catch (InterruptedException e) {
            format.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while formatting Kafka storage", e);
        }
        if (format.exitValue() != 0) {
            throw new IllegalStateException(
                    "Formatting Kafka storage failed (exit "
                            + format.exitValue()
                            + "): "
                            + tail(dir.resolve("format.log")));
        }
    }

    private synchronized void launch() throws IOException {
        starts++;
        process =
                new ProcessBuilder(javaCommand("kafka.Kafka", config.toString()))
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                        .start();
        awaitReady();
    }

    /** Waits until the broker process answers {@code describeCluster} with a node. */
    private void awaitReady() {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
        try (Admin admin = Admin.create(props)) {
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException(
                            "The Kafka broker process exited with "
                                    + process.exitValue()
                                    + " while starting: "
                                    + tail(logFile));
                }
                try {
                    if (!admin.describeCluster(new DescribeClusterOptions().timeoutMs(5000))
                            .nodes()
                            .get(6, TimeUnit.SECONDS)
                            .isEmpty()) {
                        return;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while the broker starts", e);
                } catch (Exception notYet) {
                    // Not listening or not ready yet.
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "The Kafka broker process at "
                                    + bootstrapServers
                                    + " did not answer within "
                                    + STARTUP_TIMEOUT
                                    + ": "
                                    + tail(logFile));
                }
                sleep(200);
            }
        }
    }

    /**
     * Kills the broker process with SIGKILL (no controlled shutdown, no flush) and waits until it
     * is gone. A no-op when it is not running.
     */
    public synchronized void kill() {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException(
                        "The broker process " + process.pid() + " survived SIGKILL for 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while killing the broker", e);
        }
    }

    /**
     * Starts the broker again on the same port with the same log directories (kills it first if it
     * still runs) and returns when it answers. Clients that kept running reconnect to it.
     */
    public synchronized void restart() {
        kill();
        try {
            launch();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not restart the Kafka broker process", e);
        }
    }

    /** Whether the broker process is running. */
    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** The current broker process's id, for logs. */
    public synchronized long pid() {
        return process.pid();
    }

    /** How many times a broker process was started: 1 after {@link #start}, +1 per restart. */
    public synchronized int starts() {
        return starts;
    }

    /** The PLAINTEXT port, the same across restarts. */
    public int port() {
        return port;
    }

    /** Everything the broker processes printed (appended across restarts). */
    public Path logFile() {
        return logFile;
    }

    @Override
    public String bootstrapServers() {
        return bootstrapServers;
    }

    @Override
    public Properties clientProperties() {
        return new Properties();
    }

    @Override
    public String description() {
        return "KRaft broker process at " + bootstrapServers;
    }

    /** Kills the broker process and deletes its directory (data and log). */
    @Override
    public void close() {
        destroyProcess();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The hook runs anyway.
        }
        deleteRecursively(dir);
    }

    private synchronized void destroyProcess() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        } catch (IOException e) {
            // Best effort: it is under java.io.tmpdir.
        }
    }

    /** The last lines of {@code file}, on one line, for error messages. */
    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted", e);
        }
    }

    @Override
    public String toString() {
        return description();
    }
}
