package io.github.flinkkafkakit.testing;

import org.apache.flink.annotation.Internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Flink standalone session cluster made of separate JVM processes, as {@code
 * bin/start-cluster.sh} starts it, but from the Maven classpath ({@code flink-dist} is not on Maven
 * Central): one JobManager ({@code StandaloneSessionClusterEntrypoint}) and N TaskManagers ({@code
 * TaskManagerRunner}), each a {@code java} process with its own log. Jobs are submitted with
 * Flink's own CLI ({@code CliFrontend run -d}, a child process with {@code FLINK_CONF_DIR} set) and
 * watched through the REST API. Tests can SIGKILL a TaskManager and start a new one, which is what
 * losing a machine of a real cluster looks like to Flink.
 *
 * <pre>{@code
 * try (FlinkSessionCluster cluster =
 *         FlinkSessionCluster.builder().taskManagers(2).slotsPerTaskManager(2).start()) {
 *     String job = cluster.submit(Path.of("target/my-job.jar"), "--input", "in");
 *     cluster.awaitJobState(job, Duration.ofMinutes(1), "RUNNING");
 *     cluster.kill(cluster.taskManagers().get(0)); // SIGKILL
 *     cluster.startTaskManager();                  // returns when it has registered
 *     String state = cluster.awaitJobState(job, Duration.ofMinutes(2), "FINISHED", "FAILED");
 *     int restarts = cluster.failures(job);
 * }
 * }</pre>
 *
 * <p><b>What the processes run.</b> The classpath of every process is the current JVM's ({@code
 * java.class.path}), minus what a job jar brings and a Flink distribution's {@code lib/} does not
 * hold: directories (a module's {@code target/classes}), {@code flink-connector-kafka}, {@code
 * kafka-clients} and this kit's jars (see {@link Builder#excludeFromClasspath}). Otherwise the job
 * jar's Kafka classes and the cluster's would meet in one job and fail with loader constraint
 * errors. So the JVM that builds the cluster needs Flink on its classpath ({@code flink-runtime},
 * {@code flink-clients}, {@code flink-streaming-java}, optionally {@code flink-runtime-web}) and a
 * log4j 2 binding; this module does not bring them. Memory options come from Flink's {@code
 * BashJavaUtils}, as in the start scripts; JDK 17 {@code --add-opens} flags are those of the
 * current JVM, or Flink's usual set when it has none.
 *
 * <p><b>Configuration</b> ({@link #configDir()}{@code /config.yaml}): JobManager RPC and REST on
 * free 127.0.0.1 ports (all other ports chosen by the OS), heartbeats that give a dead TaskManager
 * up within about 10 s ({@link Builder#heartbeat}), the cluster's own restart strategy ({@link
 * Builder#fixedDelayRestarts}, default 10 attempts 2 s apart), hashmap state with checkpoints under
 * {@link #directory()}, small memory sizes. Anything else with {@link Builder#set}.
 *
 * <p>{@link #close()} SIGKILLs every process and deletes the directory (unless {@link
 * Builder#keepDirectory}); a JVM shutdown hook kills the processes too, so a crashed test does not
 * leave a cluster behind. Start-up takes about 5–10 s on 2 cores; each process uses 300–700 MB.
 */
@Internal
public final class FlinkSessionCluster implements AutoCloseable {

    /** How long start-up, a TaskManager's registration and a CLI submission may take. */
    public static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(2);

    static final String JOB_MANAGER_MAIN =
            "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    static final String TASK_MANAGER_MAIN =
            "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    static final String CLI_MAIN = "org.apache.flink.client.cli.CliFrontend";
    static final String BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";
    private static final String BASH_JAVA_UTILS_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";

    /** Flink's JDK 17 flags (the parent pom's {@code flink.jvm.opens}), if this JVM has none. */
    static final List<String> DEFAULT_OPENS =
            Stream.of(
                            "java.util",
                            "java.lang",
                            "java.lang.reflect",
                            "java.lang.invoke",
                            "java.io",
                            "java.net",
                            "java.nio",
                            "sun.nio.ch",
                            "java.text",
                            "java.time",
                            "java.util.concurrent",
                            "java.util.concurrent.atomic",
                            "java.util.concurrent.locks")
                    .map(p -> "--add-opens=java.base/" + p + "=ALL-UNNAMED")
                    .collect(Collectors.toUnmodifiableList());

    private static final Pattern JOB_ID = Pattern.compile("JobID ([0-9a-f]{32})");
    private static final Set<String> TERMINAL_STATES =
            Set.of("FINISHED", "FAILED", "CANCELED", "SUSPENDED");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Builder settings;
    private final Path dir;
    private final Path confDir;
    private final int restPort;
    private final int rpcPort;
    private final String classpath;
    private final List<String> jvmFlags;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Thread shutdownHook;
    private final List<Process> processes = new ArrayList<>();
    private final List<TaskManager> taskManagers = new ArrayList<>();
    private List<String> taskManagerMemory;
    private Process jobManager;
    private int taskManagerSeq;
    private int submissions;

    /** One TaskManager process of this cluster. */
    public static final class TaskManager {
        private final String resourceId;
        private final Process process;
        private final Path logFile;

        private TaskManager(String resourceId, Process process, Path logFile) {
            this.resourceId = resourceId;
            this.process = process;
            this.logFile = logFile;
        }

        /**
         * Its resource id ({@code tm-1}, {@code tm-2}, … in start order), as the REST API shows.
         */
        public String resourceId() {
            return resourceId;
        }

        /** The operating system's process id. */
        public long pid() {
            return process.pid();
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** Everything the process printed. */
        public Path logFile() {
            return logFile;
        }

        @Override
        public String toString() {
            return "TaskManager " + resourceId + " (pid " + process.pid() + ")";
        }
    }

    /** A new builder with the defaults described on {@link FlinkSessionCluster}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Settings of a cluster; {@link #start()} starts it. */
    public static final class Builder {
        private int taskManagers = 1;
        private int slots = 2;
        private Duration heartbeatInterval = Duration.ofSeconds(4);
        private Duration heartbeatTimeout = Duration.ofSeconds(20);
        private int heartbeatRpcFailures = 3;
        private int restartAttempts = 10;
        private Duration restartDelay = Duration.ofSeconds(2);
        private String taskManagerMemory = "1g";
        private String jobManagerMemory = "768m";
        private final Map<String, String> extra = new LinkedHashMap<>();
        private Predicate<String> excluded = FlinkSessionCluster::excludedByDefault;
        private final List<String> jvmOptions = new ArrayList<>(List.of("-XX:+UseSerialGC"));
        private Path directory;
        private boolean keepDirectory;

        private Builder() {}

        /** TaskManagers started with the cluster (default 1). */
        public Builder taskManagers(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("taskManagers must be >= 0, was " + n);
            }
            this.taskManagers = n;
            return this;
        }

        /** {@code taskmanager.numberOfTaskSlots} (default 2). */
        public Builder slotsPerTaskManager(int slots) {
            if (slots < 1) {
                throw new IllegalArgumentException("slots must be >= 1, was " + slots);
            }
            this.slots = slots;
            return this;
        }

        /**
         * {@code heartbeat.interval}, {@code heartbeat.timeout} and {@code
         * heartbeat.rpc-failure-threshold}: default 4 s, 20 s and 3, so a SIGKILLed TaskManager is
         * given up after 3 failed heartbeat RPCs, 8–12 s after the kill (Flink's defaults, 10 s, 50
         * s and 2, make that 10–20 s). Until then Flink keeps the dead TaskManager's slots and
         * deploys restarted tasks there again, which fail at once: a restart strategy must outlast
         * this time.
         */
        public Builder heartbeat(Duration interval, Duration timeout, int rpcFailureThreshold) {
            this.heartbeatInterval = interval;
            this.heartbeatTimeout = timeout;
            this.heartbeatRpcFailures = rpcFailureThreshold;
            return this;
        }

        /**
         * The cluster's restart strategy: {@code fixed-delay} with {@code attempts} restarts {@code
         * delay} apart (default 10 and 2 s). A job that sets its own strategy overrides it.
         */
        public Builder fixedDelayRestarts(int attempts, Duration delay) {
            this.restartAttempts = attempts;
            this.restartDelay = delay;
            return this;
        }

        /** {@code taskmanager.memory.process.size} (default 1g). */
        public Builder taskManagerMemory(String size) {
            this.taskManagerMemory = size;
            return this;
        }

        /** Any other {@code config.yaml} entry (overrides the defaults). */
        public Builder set(String key, String value) {
            extra.put(key, value);
            return this;
        }

        /**
         * Also leaves out of the processes' classpath every entry whose file name contains one of
         * {@code names} (e.g. a library that the job jar shades).
         */
        public Builder excludeFromClasspath(String... names) {
            Predicate<String> before = excluded;
            excluded =
                    entry ->
                            before.test(entry)
                                    || Arrays.stream(names)
                                            .anyMatch(
                                                    n ->
                                                            Path.of(entry)
                                                                    .getFileName()
                                                                    .toString()
                                                                    .contains(n));
            return this;
        }

        /** Extra JVM options of every cluster process (default {@code -XX:+UseSerialGC}). */
        public Builder jvmOptions(String... options) {
            jvmOptions.addAll(List.of(options));
            return this;
        }

        /** Where configuration, logs and checkpoints go (default: a new directory in tmp). */
        public Builder directory(Path directory) {
            this.directory = directory;
            return this;
        }

        /** Keep the directory (logs, checkpoints) on {@link #close()}, e.g. to debug a failure. */
        public Builder keepDirectory(boolean keep) {
            this.keepDirectory = keep;
            return this;
        }

        /**
         * Writes the configuration, starts the JobManager and the TaskManagers, and returns when
         * the REST API answers and every TaskManager has registered.
         *
         * @throws IllegalStateException when a process does not come up (with the tail of its log)
         */
        public FlinkSessionCluster start() {
            FlinkSessionCluster cluster = null;
            try {
                Path dir =
                        directory != null
                                ? Files.createDirectories(directory)
                                : Files.createTempDirectory("flink-session-cluster-");
                cluster = new FlinkSessionCluster(this, dir);
                cluster.launch();
                return cluster;
            } catch (IOException e) {
                if (cluster != null) {
                    cluster.close();
                }
                throw new UncheckedIOException("Could not start a Flink session cluster", e);
            } catch (RuntimeException | Error e) {
                if (cluster != null) {
                    cluster.close();
                }
                throw e;
            }
        }
    }

    /** Entries a Flink distribution's {@code lib/} would not hold but a job jar would. */
    static boolean excludedByDefault(String entry) {
        if (entry.isBlank() || !entry.endsWith(".jar")) {
            return true;
        }
        String name = Path.of(entry).getFileName().toString();
        return name.startsWith("flink-connector-kafka-")
                || name.startsWith("kafka-clients-")
                || name.startsWith("flink-kafka-kit-");
    }

    private FlinkSessionCluster(Builder settings, Path dir) throws IOException {
        this.settings = settings;
        this.dir = dir.toAbsolutePath();
        this.confDir = this.dir.resolve("conf");
        Files.createDirectories(confDir);
        Files.createDirectories(this.dir.resolve("tmp"));
        int[] ports = freePorts(2);
        this.restPort = ports[0];
        this.rpcPort = ports[1];
        this.classpath =
                Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                        .filter(settings.excluded.negate())
                        .collect(Collectors.joining(File.pathSeparator));
        List<String> opens =
                ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                        .filter(a -> a.startsWith("--add-opens") || a.startsWith("--add-exports"))
                        .collect(Collectors.toList());
        this.jvmFlags = new ArrayList<>(opens.isEmpty() ? DEFAULT_OPENS : opens);
        this.jvmFlags.addAll(settings.jvmOptions);
        writeConfiguration();
        this.shutdownHook = new Thread(this::destroyAll, "kill flink session cluster " + restPort);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    private void writeConfiguration() throws IOException {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("jobmanager.rpc.address", "127.0.0.1");
        conf.put("jobmanager.rpc.port", Integer.toString(rpcPort));
        conf.put("jobmanager.bind-host", "127.0.0.1");
        conf.put("jobmanager.memory.process.size", settings.jobManagerMemory);
        conf.put("rest.address", "127.0.0.1");
        conf.put("rest.bind-address", "127.0.0.1");
        conf.put("rest.port", Integer.toString(restPort));
        conf.put("taskmanager.host", "127.0.0.1");
        conf.put("taskmanager.bind-host", "127.0.0.1");
        conf.put("taskmanager.numberOfTaskSlots", Integer.toString(settings.slots));
        conf.put("taskmanager.memory.process.size", settings.taskManagerMemory);
        conf.put("taskmanager.memory.managed.size", "64m");
        conf.put("taskmanager.memory.network.min", "64m");
        conf.put("taskmanager.memory.network.max", "64m");
        conf.put("heartbeat.interval", Long.toString(settings.heartbeatInterval.toMillis()));
        conf.put("heartbeat.timeout", Long.toString(settings.heartbeatTimeout.toMillis()));
        conf.put(
                "heartbeat.rpc-failure-threshold", Integer.toString(settings.heartbeatRpcFailures));
        conf.put("restart-strategy.type", "fixed-delay");
        conf.put(
                "restart-strategy.fixed-delay.attempts",
                Integer.toString(settings.restartAttempts));
        conf.put("restart-strategy.fixed-delay.delay", settings.restartDelay.toMillis() + " ms");
        conf.put("state.backend.type", "hashmap");
        conf.put("execution.checkpointing.dir", dir.resolve("checkpoints").toUri().toString());
        conf.put("io.tmp.dirs", dir.resolve("tmp").toString());
        conf.put("parallelism.default", "1");
        conf.put("web.submit.enable", "false");
        conf.putAll(settings.extra);
        StringBuilder yaml = new StringBuilder("# written by " + getClass().getName() + "\n");
        conf.forEach((k, v) -> yaml.append(k).append(": ").append(quote(v)).append('\n'));
        Files.writeString(confDir.resolve("config.yaml"), yaml.toString(), StandardCharsets.UTF_8);
        Files.writeString(
                confDir.resolve("log4j.properties"),
                String.join(
                        "\n",
                        "rootLogger.level = INFO",
                        "rootLogger.appenderRef.console.ref = ConsoleAppender",
                        "appender.console.name = ConsoleAppender",
                        "appender.console.type = CONSOLE",
                        "appender.console.layout.type = PatternLayout",
                        "appender.console.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c{1} - %m%n",
                        "logger.kafka.name = org.apache.kafka",
                        "logger.kafka.level = WARN",
                        "logger.pekko.name = org.apache.pekko",
                        "logger.pekko.level = WARN",
                        ""),
                StandardCharsets.UTF_8);
    }

    private static String quote(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private void launch() throws IOException {
        List<String> jmMemory = memoryParameters("GET_JM_RESOURCE_PARAMS");
        taskManagerMemory = memoryParameters("GET_TM_RESOURCE_PARAMS");
        List<String> command = new ArrayList<>(splitWords(jmMemory.get(0)));
        command.addAll(List.of(JOB_MANAGER_MAIN, "--configDir", confDir.toString()));
        command.addAll(splitWords(jmMemory.get(1)));
        jobManager = startProcess(command, dir.resolve("jobmanager.log"));
        awaitRest();
        List<TaskManager> started = new ArrayList<>();
        for (int i = 0; i < settings.taskManagers; i++) {
            started.add(launchTaskManager());
        }
        for (TaskManager tm : started) {
            awaitRegistered(tm);
        }
    }

    /**
     * JVM parameters and dynamic properties of a process, as {@code BashJavaUtils} computes them.
     */
    private List<String> memoryParameters(String command) throws IOException {
        Path log = dir.resolve("bash-java-utils-" + command + ".log");
        List<String> java = new ArrayList<>();
        java.addAll(List.of(BASH_JAVA_UTILS, command, "--configDir", confDir.toString()));
        Process p = startProcess(java, log);
        waitForExit(p, "BashJavaUtils " + command, log);
        List<String> results =
                Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                        .filter(l -> l.startsWith(BASH_JAVA_UTILS_PREFIX))
                        .map(l -> l.substring(BASH_JAVA_UTILS_PREFIX.length()).trim())
                        .collect(Collectors.toList());
        if (p.exitValue() != 0 || results.size() < 2) {
            throw new IllegalStateException(
                    "BashJavaUtils "
                            + command
                            + " failed (exit "
                            + p.exitValue()
                            + "): "
                            + tail(log));
        }
        return results.subList(results.size() - 2, results.size());
    }

    private static List<String> splitWords(String s) {
        return Arrays.stream(s.trim().split("\\s+"))
                .filter(w -> !w.isEmpty())
                .collect(Collectors.toList());
    }

    private synchronized Process startProcess(List<String> mainAndArgs, Path log)
            throws IOException {
        return startProcess(mainAndArgs, log, Map.of());
    }

    private synchronized Process startProcess(
            List<String> mainAndArgs, Path log, Map<String, String> env) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags);
        command.add("-Djava.io.tmpdir=" + dir.resolve("tmp"));
        command.add("-Dlog4j.configurationFile=" + confDir.resolve("log4j.properties").toUri());
        command.add("-Dlog4j2.configurationFile=" + confDir.resolve("log4j.properties").toUri());
        command.add("-Dlog.file=" + log);
        command.add("-cp");
        command.add(classpath);
        command.addAll(mainAndArgs);
        ProcessBuilder builder =
                new ProcessBuilder(command)
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().put("FLINK_CONF_DIR", confDir.toString());
        builder.environment().putAll(env);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    /**
     * Starts another TaskManager process and returns when the JobManager lists it (its slots are
     * then available to jobs).
     */
    public TaskManager startTaskManager() {
        try {
            TaskManager tm = launchTaskManager();
            awaitRegistered(tm);
            return tm;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start a TaskManager", e);
        }
    }

    private synchronized TaskManager launchTaskManager() throws IOException {
        String id = "tm-" + (++taskManagerSeq);
        Path log = dir.resolve("taskmanager-" + taskManagerSeq + ".log");
        List<String> command = new ArrayList<>(splitWords(taskManagerMemory.get(0)));
        command.addAll(List.of(TASK_MANAGER_MAIN, "--configDir", confDir.toString()));
        command.addAll(splitWords(taskManagerMemory.get(1)));
        command.addAll(List.of("-D", "taskmanager.resource-id=" + id));
        TaskManager tm = new TaskManager(id, startProcess(command, log), log);
        taskManagers.add(tm);
        return tm;
    }

    private void awaitRest() {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (true) {
            if (!jobManager.isAlive()) {
                throw new IllegalStateException(
                        "The JobManager process exited with "
                                + jobManager.exitValue()
                                + " while starting: "
                                + tail(jobManagerLog()));
            }
            try {
                HttpResponse<String> r = get("/overview");
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // Not listening yet.
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "The JobManager's REST API at "
                                + restUrl()
                                + " did not answer within "
                                + STARTUP_TIMEOUT
                                + ": "
                                + tail(jobManagerLog()));
            }
            sleep(200);
        }
    }

    private void awaitRegistered(TaskManager tm) {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        while (true) {
            if (!tm.isAlive()) {
                throw new IllegalStateException(
                        tm + " exited with " + tm.process.exitValue() + ": " + tail(tm.logFile));
            }
            if (registeredTaskManagerIds().contains(tm.resourceId)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        tm
                                + " did not register within "
                                + STARTUP_TIMEOUT
                                + ": "
                                + tail(tm.logFile)
                                + "\nJobManager: "
                                + tail(jobManagerLog()));
            }
            sleep(200);
        }
    }

    /**
     * Resource ids of the TaskManagers the JobManager lists now. A killed TaskManager stays listed
     * until its heartbeat times out.
     */
    public List<String> registeredTaskManagerIds() {
        List<String> ids = new ArrayList<>();
        try {
            JsonNode tms = json("/taskmanagers").path("taskmanagers");
            tms.forEach(tm -> ids.add(tm.path("id").asText()));
        } catch (IOException | IllegalStateException notYet) {
            // Empty: not reachable right now.
        }
        return ids;
    }

    /** The TaskManagers started so far (killed ones included), in start order. */
    public synchronized List<TaskManager> taskManagers() {
        return List.copyOf(taskManagers);
    }

    /**
     * Kills {@code tm} with SIGKILL ({@link Process#destroyForcibly()} on Linux): no shutdown, no
     * goodbye to the JobManager, as when its machine dies. Returns when the process is gone.
     */
    public void kill(TaskManager tm) {
        tm.process.destroyForcibly();
        try {
            if (!tm.process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException(tm + " survived SIGKILL for 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while killing " + tm, e);
        }
    }

    /**
     * Submits a job jar with Flink's CLI, detached: {@code flink run -d <jar> <args>} ({@code
     * CliFrontend} in a child process, {@code FLINK_CONF_DIR} = {@link #configDir()}); returns the
     * job id the CLI printed. The CLI's output (including what the job's {@code main} printed) is
     * in {@link #lastSubmissionLog()}.
     *
     * @throws IllegalStateException when the CLI fails or prints no job id (with its output)
     */
    public String submit(Path jar, String... args) {
        List<String> command = new ArrayList<>();
        command.addAll(List.of(CLI_MAIN, "run", "-d", jar.toAbsolutePath().toString()));
        command.addAll(List.of(args));
        Path log;
        Process cli;
        synchronized (this) {
            log = dir.resolve("cli-" + (++submissions) + ".log");
        }
        try {
            cli = startProcess(command, log);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start Flink's CLI", e);
        }
        waitForExit(cli, "flink run", log);
        String output = read(log);
        Matcher m = JOB_ID.matcher(output);
        if (cli.exitValue() != 0 || !m.find()) {
            throw new IllegalStateException(
                    "flink run -d " + jar + " failed (exit " + cli.exitValue() + "):\n" + output);
        }
        return m.group(1);
    }

    /** The output of the last {@link #submit} (CLI and the job's {@code main}). */
    public synchronized Path lastSubmissionLog() {
        return dir.resolve("cli-" + submissions + ".log");
    }

    /** The job's state from {@code GET /jobs/<id>} ({@code RUNNING}, {@code FINISHED}, …). */
    public String jobState(String jobId) {
        try {
            return json("/jobs/" + jobId).path("state").asText();
        } catch (IOException e) {
            throw new UncheckedIOException("GET /jobs/" + jobId + " failed", e);
        }
    }

    /**
     * Polls the job's state until it is one of {@code states} and returns it. Fails early when the
     * job reaches another terminal state (FINISHED, FAILED, CANCELED, SUSPENDED), with the job's
     * root exception.
     *
     * @throws IllegalStateException on timeout or another terminal state
     */
    public String awaitJobState(String jobId, Duration timeout, String... states) {
        Set<String> wanted = Set.of(states);
        long deadline = System.nanoTime() + timeout.toNanos();
        String state = "(unknown)";
        while (true) {
            try {
                state = jobState(jobId);
            } catch (UncheckedIOException | IllegalStateException notNow) {
                // The REST API may be busy on a loaded machine: ask again.
            }
            if (wanted.contains(state)) {
                return state;
            }
            if (TERMINAL_STATES.contains(state)) {
                throw new IllegalStateException(
                        "Job "
                                + jobId
                                + " is "
                                + state
                                + ", expected "
                                + wanted
                                + "; root exception: "
                                + rootException(jobId));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "Job "
                                + jobId
                                + " is still "
                                + state
                                + " after "
                                + timeout
                                + ", expected "
                                + wanted);
            }
            sleep(200);
        }
    }

    /**
     * How many failures the job went through ({@code GET /jobs/<id>/exceptions}: entries of the
     * exception history, each a failure that led to a restart or, the last one, to FAILED; failures
     * of several tasks at once are one entry). Flink keeps at most {@code
     * web.exception-history-size} (16) entries.
     */
    public int failures(String jobId) {
        try {
            return json("/jobs/" + jobId + "/exceptions")
                    .path("exceptionHistory")
                    .path("entries")
                    .size();
        } catch (IOException e) {
            throw new UncheckedIOException("GET /jobs/" + jobId + "/exceptions failed", e);
        }
    }

    /**
     * Cancels a job ({@code PATCH /jobs/<id>?mode=cancel}) without waiting for it to reach {@code
     * CANCELED} (see {@link #awaitJobState}).
     *
     * @throws IllegalStateException when the REST API does not accept the request
     */
    public void cancel(String jobId) {
        String path = "/jobs/" + jobId + "?mode=cancel";
        HttpResponse<String> r;
        try {
            r = send("PATCH", path);
        } catch (IOException e) {
            throw new UncheckedIOException("PATCH " + path + " failed", e);
        }
        if (r.statusCode() != 202) {
            throw new IllegalStateException(
                    "PATCH " + path + ": HTTP " + r.statusCode() + " " + r.body());
        }
    }

    /** The job's root exception (first lines) from the REST API, or why it is unknown. */
    public String rootException(String jobId) {
        try {
            JsonNode history = json("/jobs/" + jobId + "/exceptions").path("exceptionHistory");
            JsonNode entries = history.path("entries");
            if (entries.isEmpty()) {
                return "(none)";
            }
            String trace = entries.get(0).path("stacktrace").asText();
            return trace.lines().limit(12).collect(Collectors.joining("\n"));
        } catch (IOException | RuntimeException e) {
            return "(unknown: " + e + ")";
        }
    }

    /** {@code GET <path>} on the REST API, parsed; throws on a status other than 200. */
    public JsonNode json(String path) throws IOException {
        HttpResponse<String> r = get(path);
        if (r.statusCode() != 200) {
            throw new IllegalStateException(
                    "GET " + path + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    private HttpResponse<String> get(String path) throws IOException {
        return send("GET", path);
    }

    /** {@code method path} on the REST API, without a body. */
    private HttpResponse<String> send(String method, String path) throws IOException {
        HttpRequest request =
                HttpRequest.newBuilder(URI.create(restUrl() + path))
                        .timeout(Duration.ofSeconds(10))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .build();
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted", e);
        }
    }

    /** {@code http://127.0.0.1:<rest port>}. */
    public String restUrl() {
        return "http://127.0.0.1:" + restPort;
    }

    public int restPort() {
        return restPort;
    }

    /** The directory of {@code config.yaml} ({@code FLINK_CONF_DIR} of the processes). */
    public Path configDir() {
        return confDir;
    }

    /** The cluster's directory: configuration, logs, checkpoints. */
    public Path directory() {
        return dir;
    }

    public Path jobManagerLog() {
        return dir.resolve("jobmanager.log");
    }

    /** Kills every process (SIGKILL) and deletes the directory unless asked to keep it. */
    @Override
    public void close() {
        destroyAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The hook runs anyway.
        }
        if (!settings.keepDirectory) {
            deleteRecursively(dir);
        }
    }

    private synchronized void destroyAll() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void waitForExit(Process p, String what, Path log) {
        try {
            if (!p.waitFor(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(
                        what + " did not finish within " + STARTUP_TIMEOUT + ": " + tail(log));
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for " + what, e);
        }
    }

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

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    /** The last lines of {@code file}, for error messages. */
    public static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no output: " + e.getMessage() + ")";
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
        return "Flink session cluster at " + restUrl();
    }
}
