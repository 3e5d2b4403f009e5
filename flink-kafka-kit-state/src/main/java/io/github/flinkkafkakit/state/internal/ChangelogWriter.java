package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.preflight.KafkaPreflight;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import org.apache.kafka.clients.admin.DescribeTransactionsResult;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The single writer of a Kafka changelog pipeline (parallelism 1): state changes, input positions,
 * dead letters and outputs of one checkpoint go to Kafka in one transaction, pre-committed when the
 * checkpoint's barrier reaches the writer and committed when the checkpoint completes.
 *
 * <p>Exactly-once, in the order the writer does it:
 *
 * <ol>
 *   <li><b>Fence before anyone restores.</b> The transactional ids form a small pool of fixed
 *       names, {@code <prefix>-0}, {@code <prefix>-1}, … (the lowest free one serves the next
 *       transaction, so the ids in use are always the lowest ones). At start the writer takes over
 *       every id any writer of this changelog used ({@code initTransactions}): what a crashed run
 *       left open is aborted, a commit in flight is awaited, and any other instance still running
 *       can no longer commit. Then it commits an owner record ({@link PositionsTopic#OWNER_KEY})
 *       naming this job. Every task that restores from Kafka waits for that record first, so all of
 *       them read the same, final commit: nothing else commits until this job does.
 *   <li><b>One transaction per checkpoint</b>, ending with a commit marker (a sequence number) in
 *       the positions topic and in every changelog partition, so a restore can check that positions
 *       and state are of the same commit.
 *   <li><b>Commit after the checkpoint completes</b>, in order; a commit Kafka refuses fails the
 *       job — a fenced writer (another instance took over) stops for good, naming it. A transaction
 *       about to outlive {@code transaction.timeout.ms} (checkpoints not completing) fails the job
 *       before Kafka aborts it, so it restarts from its last completed checkpoint.
 *   <li><b>Restored from a Flink checkpoint</b>, the writer first commits what that checkpoint
 *       pre-committed, then fences. It refuses a checkpoint or savepoint older than what Kafka
 *       holds (its outputs would be written twice), and a transaction that Kafka aborted after its
 *       checkpoint completed (the state would lack it). It resumes those by transactional id,
 *       producer id and epoch, and the epoch stays the same across one producer's transactions: so
 *       an id whose commit a completed checkpoint still lists is not used again until a checkpoint
 *       taken after that commit has completed — else the resume would commit the id's next, open
 *       transaction (outputs the restored job writes again).
 * </ol>
 */
@Internal
public final class ChangelogWriter extends AbstractStreamOperator<Void>
        implements OneInputStreamOperator<KafkaWrite, Void> {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(ChangelogWriter.class);

    /** Transactional ids a writer fences at least: two in use (one open, one committing). */
    static final int MIN_POOL = 3;

    /** Ids above those known that are looked up at start, in case the pool grew. */
    private static final int PROBED_IDS = 8;

    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    /** How often open transactions are checked against the transaction timeout. */
    private static final long AGE_CHECK_MILLIS = 5_000;

    /**
     * How long an idle writer (nothing to commit) goes without checking that its job still owns the
     * changelog: a writer with commits learns of a take-over from its next commit.
     */
    private static final long OWNER_CHECK_MILLIS = 10_000;

    private static final String WRITER_JOB = "jobId";
    private static final String WRITER_SEQ = "seq";
    private static final String OWNER_JOB = "jobId";
    private static final String OWNER_SINCE = "since";

    private final ChangelogSettings settings;

    /** An open or pre-committed transaction. */
    private static final class Transaction {
        final int index;
        final TransactionalProducer producer;
        final long startedAt;
        long seq;
        long checkpointId;

        /** Once committed: the first checkpoint taken since, which does not list it (-1: none). */
        long unlistedFrom = -1;

        Transaction(int index, TransactionalProducer producer, long startedAt) {
            this.index = index;
            this.producer = producer;
            this.startedAt = startedAt;
        }

        PendingCommit toPending() {
            PendingCommit p = new PendingCommit();
            p.seq = seq;
            p.checkpointId = checkpointId;
            p.transactionalId = producer.transactionalId();
            p.producerId = producer.producerId();
            p.epoch = producer.epoch();
            p.startedAt = startedAt;
            return p;
        }
    }

    private transient KafkaWriteSerializer serializer;
    private transient Properties producerProperties;
    private transient String jobId;
    private transient AtomicReference<Exception> sendFailure;
    private transient Callback callback;

    /** Exactly-once: the producers of the pool, by index, each fenced. */
    private transient List<TransactionalProducer> pool;

    /** When each id of the pool last began or committed a transaction (epoch millis). */
    private transient List<Long> lastUsed;

    /**
     * An id idle for longer is taken over again before its next transaction: the broker forgets a
     * transactional id unused for {@code transactional.id.expiration.ms} (7 days by default), and a
     * producer still holding it then fails. Half the broker's setting.
     */
    private transient long refenceAfterMillis;

    /** When this writer last knew it owned the changelog: its take-over, its last commit. */
    private transient long ownedAt;

    private transient BitSet busy;
    private transient Transaction current;
    private transient ArrayDeque<Transaction> pending;

    /**
     * Committed transactions whose id is not free yet: the latest completed checkpoint may still
     * list them as pending, and a restore from it resumes them by transactional id, producer id and
     * epoch — which, the epoch staying the same across one producer's transactions, would commit
     * whatever the id has open then. An id is free once a checkpoint taken after its commit ({@link
     * Transaction#unlistedFrom}) completed.
     */
    private transient ArrayDeque<Transaction> committed;

    private transient long nextSeq;
    private transient String generation;
    private transient Fields identity;
    private transient boolean identityChanged;

    /** At-least-once: one plain producer. */
    private transient KafkaProducer<byte[], byte[]> plain;

    private transient ListState<PendingCommit> pendingState;
    private transient ListState<String> writerState;
    private transient List<PendingCommit> restoredPending;
    private transient Fields restoredWriter;
    private transient Counter commits;

    public ChangelogWriter(ChangelogSettings settings) {
        this.settings = settings;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        pendingState =
                context.getOperatorStateStore()
                        .getListState(
                                new ListStateDescriptor<>(
                                        "fkk-writer-pending",
                                        TypeInformation.of(PendingCommit.class)));
        writerState =
                context.getOperatorStateStore()
                        .getListState(new ListStateDescriptor<>("fkk-writer", Types.STRING));
        restoredPending = new ArrayList<>();
        if (context.isRestored()) {
            pendingState.get().forEach(restoredPending::add);
            restoredPending.sort(Comparator.comparingLong(p -> p.seq));
            for (String writer : writerState.get()) {
                restoredWriter = Fields.decode(writer.getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        CheckpointSettings.check(
                getContainingTask().getJobConfiguration(),
                settings.guarantee(),
                settings.transactionTimeout());
        jobId = getRuntimeContext().getJobInfo().getJobId().toString();
        serializer = new KafkaWriteSerializer(settings.maxRequestSize());
        producerProperties = settings.producerProperties();
        sendFailure = new AtomicReference<>();
        callback =
                (metadata, e) -> {
                    if (e != null) {
                        sendFailure.compareAndSet(null, e);
                    }
                };
        var group = getMetricGroup().addGroup("fkk").addGroup("changelogWriter");
        commits = group.counter("commits");
        pending = new ArrayDeque<>();
        committed = new ArrayDeque<>();
        if (settings.guarantee() == DeliveryGuarantee.EXACTLY_ONCE) {
            pool = new ArrayList<>();
            lastUsed = new ArrayList<>();
            busy = new BitSet();
            group.gauge("pendingCommits", () -> pending.size());
            takeOver();
            getProcessingTimeService()
                    .scheduleWithFixedDelay(
                            time -> checkTransactions(), AGE_CHECK_MILLIS, AGE_CHECK_MILLIS);
        } else {
            startAtLeastOnce();
        }
    }

    /**
     * Exactly-once start: commits what a restored checkpoint pre-committed, claims the changelog
     * for this job, fences every writer of the changelog, checks what Kafka holds against the
     * restored checkpoint and the job, and commits that this job's writer is ready.
     *
     * <p>The claim comes first, through an id of its own ({@code <prefix>-owner}), so that a job
     * restarting from its Flink checkpoint while another instance takes over sees that claim before
     * it fences anything, and stops instead of fencing the new owner back. Restoring tasks wait for
     * the ready record, which comes after the fence.
     */
    private void takeOver() throws Exception {
        List<PendingCommit> unknown = commitRestored();
        boolean sameJob = restoredWriter != null && jobId.equals(restoredWriter.get(WRITER_JOB));
        try (KafkaPreflight admin = new KafkaPreflight(settings.connection(), ADMIN_TIMEOUT)) {
            refenceAfterMillis =
                    Math.max(
                            1_000,
                            admin.brokerConfig("transactional.id.expiration.ms")
                                            .map(Long::parseLong)
                                            .orElse(Duration.ofDays(7).toMillis())
                                    / 2);
            // What would refuse the start is checked before anything is claimed or fenced, so a
            // refused start leaves a running instance and the topics as they were; and again
            // after the fence, on the final commit.
            PositionsTopic.Snapshot before =
                    PositionsTopic.read(settings.connection(), settings.positionsTopic());
            verifyIdentity(before, admin);
            checkRestored(List.of(), before.commitSeq());
            TransactionalProducer claim = null;
            try {
                if (sameJob) {
                    // a Flink failover: the job restarts only while it owns the changelog
                    Fields owner = currentOwner();
                    if (owner != null && isOther(owner)) {
                        throw terminal(takenOver(owner));
                    }
                } else {
                    claim =
                            TransactionalProducer.create(
                                    producerProperties,
                                    settings.transactionalIdPrefix() + "-owner");
                    claim.fence();
                    commit(claim, ownerRecord(false));
                }
                fence(Math.max(MIN_POOL, idsInUse(admin)));
                PositionsTopic.Snapshot snapshot =
                        PositionsTopic.read(settings.connection(), settings.positionsTopic());
                int recorded = (int) snapshot.identity().getLong(ChangelogIdentity.WRITER_IDS, 0);
                if (recorded > pool.size()) {
                    fence(recorded);
                }
                long committed = snapshot.commitSeq();
                long restoredSeq = checkRestored(unknown, committed);
                identity = verifyIdentity(snapshot, admin);
                generation = identity.get(ChangelogIdentity.GENERATION);
                nextSeq = Math.max(committed, restoredSeq) + 1;
                if (claim != null) {
                    Fields previous = snapshot.owner();
                    commit(claim, ownerRecord(true), identityRecord());
                    if (!previous.isEmpty() && !jobId.equals(previous.get(OWNER_JOB))) {
                        LOG.warn(
                                "Took changelog '{}' over from job {} (owner since {}): its"
                                        + " changelog writer is fenced and cannot commit any more",
                                settings.changelogTopic(),
                                previous.get(OWNER_JOB),
                                previous.get(OWNER_SINCE));
                    }
                } else {
                    lastUsed.set(0, System.currentTimeMillis());
                    commit(pool.get(0), identityRecord());
                }
                ownedAt = System.currentTimeMillis();
            } finally {
                if (claim != null) {
                    claim.close();
                }
            }
        }
        LOG.info(
                "Changelog writer of job {} owns '{}' (next commit {}, {} transactional ids)",
                jobId,
                settings.changelogTopic(),
                nextSeq,
                pool.size());
    }

    /**
     * Checks the restored checkpoint (if any) against the commit Kafka holds: what Kafka refused to
     * commit again must be committed already, and Kafka must not hold newer commits.
     *
     * @return the commit the restored checkpoint was taken at (0 without one)
     */
    private long checkRestored(List<PendingCommit> unknown, long committed) {
        for (PendingCommit p : unknown) {
            if (committed < p.seq) {
                throw terminal(
                        String.format(
                                "Kafka aborted the changelog writer's transaction of checkpoint"
                                        + " %d (commit %d, %s) after that checkpoint had"
                                        + " completed (was it open longer than"
                                        + " transaction.timeout.ms, %d ms?): Flink's checkpoint"
                                        + " holds state that Kafka does not. Start the job"
                                        + " without its Flink checkpoint: it resumes exactly"
                                        + " from Kafka (commit %d)",
                                p.checkpointId,
                                p.seq,
                                p.transactionalId,
                                settings.transactionTimeout().toMillis(),
                                committed));
            }
        }
        if (restoredWriter == null) {
            return 0;
        }
        long restoredSeq = restoredWriter.getLong(WRITER_SEQ, 0);
        if (committed > restoredSeq) {
            throw terminal(
                    String.format(
                            "This job was restored from a Flink checkpoint or savepoint of"
                                    + " changelog commit %d, but changelog '%s' already holds"
                                    + " commit %d: resuming from the older one would write its"
                                    + " outputs again. Start the job without the savepoint (it"
                                    + " resumes exactly from Kafka), or from the latest checkpoint",
                            restoredSeq, settings.changelogTopic(), committed));
        }
        return restoredSeq;
    }

    private Fields verifyIdentity(PositionsTopic.Snapshot snapshot, KafkaPreflight admin)
            throws Exception {
        try {
            return ChangelogIdentity.verify(snapshot, current(admin), changelogHasRecords(admin));
        } catch (IllegalStateException e) {
            throw new SuppressRestartsException(e);
        }
    }

    /**
     * The owner record naming this job; {@code ready} once its writer fenced every other: the
     * restoring tasks of the job wait for that.
     */
    private ProducerRecord<byte[], byte[]> ownerRecord(boolean ready) {
        return positionsRecord(
                PositionsTopic.OWNER_KEY,
                Fields.empty()
                        .with(OWNER_JOB, jobId)
                        .with(OWNER_SINCE, Instant.now())
                        .with(PositionsTopic.OWNER_READY, ready));
    }

    private ProducerRecord<byte[], byte[]> identityRecord() {
        return positionsRecord(PositionsTopic.IDENTITY_KEY, identity);
    }

    /** Commits {@code records} in a transaction of their own. */
    @SafeVarargs
    private void commit(TransactionalProducer producer, ProducerRecord<byte[], byte[]>... records) {
        producer.begin();
        for (ProducerRecord<byte[], byte[]> record : records) {
            producer.send(record, callback);
        }
        producer.commit();
        checkSendFailure();
    }

    /** Whether {@code owner} names another job than this one. */
    private boolean isOther(Fields owner) {
        String job = owner.get(OWNER_JOB);
        return job != null && !job.equals(jobId);
    }

    /**
     * Commits the transactions a restored checkpoint pre-committed (its checkpoint completed, so
     * they must be committed), before anything is fenced.
     *
     * @return those Kafka refused as fenced: committed already, or aborted (told apart once the
     *     positions topic is read)
     */
    private List<PendingCommit> commitRestored() {
        List<PendingCommit> unknown = new ArrayList<>();
        for (PendingCommit p : restoredPending) {
            try {
                TransactionalProducer.resumeAndCommit(
                        producerProperties, p.transactionalId, p.producerId, p.epoch);
                LOG.info("Committed the restored {}", p);
            } catch (RuntimeException e) {
                if (!TransactionalProducer.isFenced(e)) {
                    throw e;
                }
                LOG.info("Restored {} cannot be committed again: {}", p, e.toString());
                unknown.add(p);
            }
        }
        restoredPending.clear();
        return unknown;
    }

    /**
     * How many ids of the pool Kafka knows: the highest index it has a transactional state for,
     * plus one (looking a few ids past the pool in case it grew).
     */
    private int idsInUse(KafkaPreflight admin) throws Exception {
        int known = 0;
        for (int from = 0; ; from += PROBED_IDS) {
            List<String> ids = new ArrayList<>();
            for (int i = from; i < from + MIN_POOL + PROBED_IDS; i++) {
                ids.add(settings.transactionalId(i));
            }
            DescribeTransactionsResult described = admin.admin().describeTransactions(ids);
            int highest = -1;
            for (int i = 0; i < ids.size(); i++) {
                try {
                    described
                            .description(ids.get(i))
                            .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    highest = i;
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TransactionalIdNotFoundException)) {
                        throw new IllegalStateException(
                                "Cannot look up the changelog writer's transactional ids ("
                                        + ids.get(i)
                                        + "): "
                                        + e.getCause(),
                                e.getCause());
                    }
                }
            }
            if (highest < 0) {
                return known;
            }
            known = from + highest + 1;
            if (highest < ids.size() - 1) {
                return known;
            }
        }
    }

    /** Creates and fences the pool's producers up to {@code size}. */
    private void fence(int size) {
        List<TransactionalProducer> created = new ArrayList<>();
        while (pool.size() < size) {
            TransactionalProducer producer =
                    TransactionalProducer.create(
                            producerProperties, settings.transactionalId(pool.size()));
            pool.add(producer);
            lastUsed.add(System.currentTimeMillis());
            created.add(producer);
        }
        TransactionalProducer.fenceAll(created);
    }

    /**
     * Takes the id {@code index} over again with a new producer (the broker may have forgotten it),
     * once this job still owns the changelog: re-fencing an id another instance took over would
     * take the changelog back from it.
     */
    private void refence(int index) {
        Fields owner = currentOwner();
        if (owner != null && isOther(owner)) {
            throw terminal(takenOver(owner));
        }
        pool.get(index).close();
        TransactionalProducer producer =
                TransactionalProducer.create(producerProperties, settings.transactionalId(index));
        pool.set(index, producer);
        producer.fence();
    }

    /** The changelog's owner record, or null when it cannot be read now. */
    private Fields currentOwner() {
        try {
            return PositionsTopic.read(settings.connection(), settings.positionsTopic()).owner();
        } catch (RuntimeException e) {
            LOG.warn("Cannot read the owner of changelog '{}': {}", settings.changelogTopic(), e);
            return null;
        }
    }

    private ChangelogIdentity.Current current(KafkaPreflight admin) {
        TopicDescription changelog = describe(admin, settings.changelogTopic());
        Map<String, String> inputs = new LinkedHashMap<>();
        for (String topic : settings.inputTopics()) {
            inputs.put(topic, describe(admin, topic).topicId().toString());
        }
        return new ChangelogIdentity.Current(
                settings.changelogTopic(),
                changelog.topicId().toString(),
                changelog.partitions().size(),
                settings.positionsTopic(),
                settings.maxParallelism(),
                inputs,
                pool.size());
    }

    private static TopicDescription describe(KafkaPreflight admin, String topic) {
        return admin.describeTopic(topic)
                .orElseThrow(
                        () ->
                                new SuppressRestartsException(
                                        new IllegalStateException(
                                                "Topic '" + topic + "' does not exist")));
    }

    private boolean changelogHasRecords(KafkaPreflight admin) {
        return admin
                .endOffsets(List.of(settings.changelogTopic()), IsolationLevel.READ_UNCOMMITTED)
                .values()
                .stream()
                .anyMatch(offset -> offset > 0);
    }

    /**
     * At-least-once start: no transactions, so nothing to fence; the changelog's identity is
     * checked as under exactly-once (a re-created or lost topic loses input either way), then the
     * owner record says this job is ready.
     */
    private void startAtLeastOnce() throws Exception {
        plain =
                new KafkaProducer<>(
                        producerProperties, new ByteArraySerializer(), new ByteArraySerializer());
        PositionsTopic.Snapshot snapshot =
                PositionsTopic.read(settings.connection(), settings.positionsTopic());
        try (KafkaPreflight admin = new KafkaPreflight(settings.connection(), ADMIN_TIMEOUT)) {
            identity = verifyIdentity(snapshot, admin);
        }
        generation = identity.get(ChangelogIdentity.GENERATION);
        nextSeq = snapshot.commitSeq() + 1;
        plain.send(identityRecord(), callback);
        plain.send(ownerRecord(true), callback);
        plain.flush();
        checkSendFailure();
    }

    private ProducerRecord<byte[], byte[]> positionsRecord(String key, Fields value) {
        return new ProducerRecord<>(
                settings.positionsTopic(), 0, key.getBytes(StandardCharsets.UTF_8), value.encode());
    }

    @Override
    public void processElement(StreamRecord<KafkaWrite> element) {
        checkSendFailure();
        ProducerRecord<byte[], byte[]> record =
                serializer.serialize(element.getValue(), null, null);
        if (plain != null) {
            plain.send(record, callback);
            return;
        }
        if (current == null) {
            current = begin();
        }
        FaultPoints.reach(FaultPoints.Point.WRITER_SEND);
        current.producer.send(record, callback);
    }

    /** Begins a transaction on the lowest free id of the pool (growing it when all are busy). */
    private Transaction begin() {
        int index = busy.nextClearBit(0);
        if (index >= pool.size()) {
            fence(index + 1);
            identity = identity.with(ChangelogIdentity.WRITER_IDS, pool.size());
            identityChanged = true;
            LOG.warn(
                    "The changelog writer uses {} transactional ids: {} checkpoints wait for their"
                            + " commit",
                    pool.size(),
                    pending.size());
        }
        long now = System.currentTimeMillis();
        if (now - lastUsed.get(index) > refenceAfterMillis) {
            refence(index);
        }
        busy.set(index);
        lastUsed.set(index, now);
        TransactionalProducer producer = pool.get(index);
        producer.begin();
        return new Transaction(index, producer, now);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        if (plain != null) {
            plain.flush();
            checkSendFailure();
            return;
        }
        for (Transaction t : committed) {
            if (t.unlistedFrom < 0) {
                t.unlistedFrom = context.getCheckpointId();
            }
        }
        if (current != null) {
            preCommit(current, context.getCheckpointId());
            FaultPoints.reach(FaultPoints.Point.AFTER_PRE_COMMIT);
            pending.add(current);
            current = null;
        }
        List<PendingCommit> state = new ArrayList<>();
        for (Transaction t : pending) {
            state.add(t.toPending());
        }
        pendingState.update(state);
        writerState.update(
                List.of(
                        new String(
                                Fields.empty()
                                        .with(WRITER_JOB, jobId)
                                        .with(WRITER_SEQ, nextSeq - 1)
                                        .encode(),
                                StandardCharsets.UTF_8)));
    }

    /**
     * Ends a transaction's writes: its commit markers (the positions topic's and one per changelog
     * partition), flushed and registered with Kafka.
     */
    private void preCommit(Transaction t, long checkpointId) {
        t.seq = nextSeq++;
        t.checkpointId = checkpointId;
        byte[] marker = CommitMarker.of(t.seq, generation, jobId, checkpointId).encode();
        t.producer.send(
                new ProducerRecord<>(
                        settings.positionsTopic(),
                        0,
                        PositionsTopic.COMMIT_KEY.getBytes(StandardCharsets.UTF_8),
                        marker),
                callback);
        for (int p = 0; p < settings.changelogPartitions(); p++) {
            t.producer.send(
                    new ProducerRecord<>(
                            settings.changelogTopic(), p, ChangelogKeys.COMMIT_MARKER, marker),
                    callback);
        }
        if (identityChanged) {
            t.producer.send(positionsRecord(PositionsTopic.IDENTITY_KEY, identity), callback);
            identityChanged = false;
        }
        t.producer.preCommit();
        checkSendFailure();
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        while (!pending.isEmpty() && pending.peek().checkpointId <= checkpointId) {
            Transaction t = pending.peek();
            FaultPoints.reach(FaultPoints.Point.BEFORE_COMMIT);
            try {
                t.producer.commit();
            } catch (RuntimeException e) {
                throw commitFailed(t, e);
            }
            FaultPoints.reach(FaultPoints.Point.AFTER_COMMIT);
            pending.poll();
            committed.add(t);
            lastUsed.set(t.index, System.currentTimeMillis());
            ownedAt = System.currentTimeMillis();
            commits.inc();
        }
        while (!committed.isEmpty()
                && committed.peek().unlistedFrom >= 0
                && committed.peek().unlistedFrom <= checkpointId) {
            busy.clear(committed.poll().index);
        }
    }

    private RuntimeException commitFailed(Transaction t, RuntimeException e) {
        return failure(
                String.format(
                        "Kafka refused to commit the changelog writer's transaction of checkpoint"
                                + " %d (commit %d, %s)",
                        t.checkpointId, t.seq, t.producer.transactionalId()),
                e);
    }

    /**
     * What a failed write or commit means: when another instance took the changelog over, this
     * writer stops for good (naming it); otherwise the job restarts from its last completed
     * checkpoint, whose recovery commits or refuses what is pending.
     */
    private RuntimeException failure(String what, Throwable e) {
        if (TransactionalProducer.isFenced(e)) {
            Fields owner = currentOwner();
            if (owner != null && isOther(owner)) {
                return terminal(takenOver(owner) + " (" + what + ": " + e + ")");
            }
        }
        return new IllegalStateException(
                what + ": " + e + ". The job restarts from its last completed checkpoint", e);
    }

    private String takenOver(Fields owner) {
        return String.format(
                "Another instance of this job, job %s, took changelog '%s' over (since %s):"
                        + " this one stops, so that only one writes it (two must not run at"
                        + " once)",
                owner.get(OWNER_JOB), settings.changelogTopic(), owner.get(OWNER_SINCE));
    }

    /**
     * Runs every few seconds: fails the job (it restarts from its last completed checkpoint) when a
     * transaction is about to outlive {@code transaction.timeout.ms} — Kafka would abort it on its
     * own, silently; and, while there is nothing to commit, stops the writer when another instance
     * took the changelog over (a writer with commits learns it from its next commit).
     */
    private void checkTransactions() {
        long now = System.currentTimeMillis();
        long oldest = Long.MAX_VALUE;
        Transaction pendingHead = pending.peek();
        if (pendingHead != null) {
            oldest = pendingHead.startedAt;
        } else if (current != null) {
            oldest = current.startedAt;
        }
        long timeout = settings.transactionTimeout().toMillis();
        long limit = timeout - Math.max(Math.min(30_000, timeout / 2), timeout / 10);
        long age = now - oldest;
        if (oldest != Long.MAX_VALUE && age > limit) {
            throw new IllegalStateException(
                    String.format(
                            "The changelog writer's oldest transaction has been open for %d s,"
                                    + " close to transaction.timeout.ms (%d s): no checkpoint has"
                                    + " completed for that long. Failing before Kafka aborts it,"
                                    + " so the job restarts from its last completed checkpoint",
                            age / 1000, timeout / 1000));
        }
        if (oldest == Long.MAX_VALUE && now - ownedAt > OWNER_CHECK_MILLIS) {
            Fields owner = currentOwner();
            if (owner != null && isOther(owner)) {
                throw terminal(takenOver(owner));
            }
            ownedAt = now;
        }
    }

    private void checkSendFailure() {
        Exception failure = sendFailure.get();
        if (failure != null) {
            throw failure(
                    "The changelog writer of '" + settings.changelogTopic() + "' could not write",
                    failure);
        }
    }

    private static SuppressRestartsException terminal(String message) {
        return new SuppressRestartsException(new IllegalStateException(message));
    }

    @Override
    public void close() throws Exception {
        try {
            if (pool != null) {
                pool.forEach(TransactionalProducer::close);
            }
            if (plain != null) {
                plain.close(Duration.ZERO);
            }
        } finally {
            super.close();
        }
    }
}
