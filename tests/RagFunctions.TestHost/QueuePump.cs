using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using RagFunctions.App.Functions;
using RagFunctions.Core.Options;

namespace RagFunctions.TestHost;

/// <summary>The queue settings of host.json that the pump honours.</summary>
public sealed record QueueHostSettings(int BatchSize, int MaxDequeueCount, TimeSpan VisibilityTimeout)
{
    /// <summary>In-flight count at or below which the next batch is fetched; the host's default is half the batch size.</summary>
    public int NewBatchThreshold { get; init; } = BatchSize / 2;

    /// <summary>Longest wait between polls of an empty queue (the host backs off from 100 ms up to this).</summary>
    public TimeSpan MaxPollingInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Invisibility a message gets when it is received, renewed at half-time while its function runs; the host uses
    /// 10 minutes. It is how long a message held by a crashed instance stays hidden before another instance gets it.
    /// </summary>
    public TimeSpan MessageLease { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Reads extensions.queues of a host.json (comments allowed, as the Functions host allows them).</summary>
    public static QueueHostSettings FromHostJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var queues = doc.RootElement.GetProperty("extensions").GetProperty("queues");
        var batchSize = queues.GetProperty("batchSize").GetInt32();
        var settings = new QueueHostSettings(
            batchSize,
            queues.GetProperty("maxDequeueCount").GetInt32(),
            TimeSpan.Parse(queues.GetProperty("visibilityTimeout").GetString()!, CultureInfo.InvariantCulture));
        if (queues.TryGetProperty("newBatchThreshold", out var threshold))
        {
            settings = settings with { NewBatchThreshold = threshold.GetInt32() };
        }

        if (queues.TryGetProperty("maxPollingInterval", out var polling))
        {
            settings = settings with { MaxPollingInterval = TimeSpan.Parse(polling.GetString()!, CultureInfo.InvariantCulture) };
        }

        return settings;
    }
}

/// <summary>One message the pump finished with: which queue, how many deliveries so far, outcome, time from receipt to completion.</summary>
public sealed record HandledMessage(string Queue, string MessageId, long DequeueCount, bool Succeeded, TimeSpan Elapsed);

/// <summary>
/// Stands in for the Functions host's queue listeners against a real queue (Azurite), one listener per queue function,
/// with the host's documented semantics: receive up to batchSize messages (hidden for <see cref="QueueHostSettings.MessageLease"/>,
/// renewed at half-time while running), fetch the next batch once in-flight messages drop to newBatchThreshold, back off
/// up to maxPollingInterval while a queue is empty, delete on success, make a failed message visible again after
/// visibilityTimeout, move it to the poison queue once it has been dequeued maxDequeueCount times, and move a message that
/// cannot be base64-decoded to the poison queue at once.
/// </summary>
public sealed class QueuePump
{
    private static readonly TimeSpan MinPollingInterval = TimeSpan.FromMilliseconds(100);
    private readonly InProcessFunctionHost _host;
    private readonly QueueHostSettings _settings;
    private readonly QueueClient _queue;
    private readonly QueueClient _poison;
    private int _processed;
    private int _failed;
    private int _poisoned;
    private int _undecodable;
    private int _storageErrors;
    private int _inFlight;
    private long _lastActivity = Stopwatch.GetTimestamp();
    private long _lastEmptyPollMain;
    private long _lastEmptyPollPoison;
    private long _redeliveryDue;

    public QueuePump(InProcessFunctionHost host, string connectionString, QueueHostSettings settings)
    {
        _host = host;
        _settings = settings;
        _poison = new QueueClient(connectionString, StorageOptions.PoisonQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        options.MessageDecodingFailed += OnDecodingFailedAsync;
        _queue = new QueueClient(connectionString, StorageOptions.QueryQueue, options);
    }

    public int Processed => _processed;

    public int Failed => _failed;

    public int Poisoned => _poisoned;

    /// <summary>Messages moved to the poison queue because their body was not base64.</summary>
    public int Undecodable => _undecodable;

    /// <summary>Queue calls that failed (storage unreachable); the message is left to its lease and redelivered.</summary>
    public int StorageErrors => _storageErrors;

    /// <summary>Called after each message is completed, failed or poisoned (tests time messages with it).</summary>
    public Action<HandledMessage>? OnHandled { get; set; }

    /// <summary>Runs until both queues stay empty, with nothing in flight, for <paramref name="quiet"/>, or <paramref name="timeout"/> passes.</summary>
    public async Task RunUntilIdleAsync(TimeSpan quiet, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Touch();
        var run = RunAsync(stop.Token);
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        try
        {
            while (!IsIdle(quiet))
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    throw new TimeoutException($"The queues did not drain within {timeout}.");
                }

                if (run.IsCompleted)
                {
                    await run;
                }

                await Task.Delay(20, cancellationToken);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    /// <summary>Runs both listeners until <paramref name="cancellationToken"/> is cancelled, then lets in-flight messages finish.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await CreateQueuesAsync(cancellationToken);
        await Task.WhenAll(
            ListenAsync(_queue, nameof(ProcessQueryMessage), cancellationToken),
            ListenAsync(_poison, nameof(RecordPoisonMessage), cancellationToken));
    }

    private async Task CreateQueuesAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await _queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                await _poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                return;
            }
            catch (Exception ex) when (IsStorageFailure(ex) && !cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _storageErrors);
                await Task.Delay(MinPollingInterval, CancellationToken.None);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task ListenAsync(QueueClient queue, string function, CancellationToken stopping)
    {
        var processing = new List<Task>();
        var delay = MinPollingInterval;
        while (!stopping.IsCancellationRequested)
        {
            QueueMessage[] batch;
            var reachable = true;
            try
            {
                batch = (await queue.ReceiveMessagesAsync(_settings.BatchSize, _settings.MessageLease, stopping)).Value;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (IsStorageFailure(ex))
            {
                // Storage unreachable or erroring: back off like an empty poll and try again.
                Interlocked.Increment(ref _storageErrors);
                reachable = false;
                batch = [];
            }

            if (batch.Length == 0)
            {
                if (reachable)
                {
                    Interlocked.Exchange(ref queue == _poison ? ref _lastEmptyPollPoison : ref _lastEmptyPollMain, Stopwatch.GetTimestamp());
                }

                await DelayAsync(delay, stopping);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Math.Max(_settings.MaxPollingInterval.Ticks, MinPollingInterval.Ticks)));
                continue;
            }

            delay = MinPollingInterval;
            Touch();
            foreach (var message in batch)
            {
                Interlocked.Increment(ref _inFlight);
                processing.Add(HandleAsync(queue, function, message));
            }

            // The host fetches again only once no more than newBatchThreshold messages are still running.
            while (processing.Count > _settings.NewBatchThreshold)
            {
                processing.Remove(await Task.WhenAny(processing));
            }
        }

        await Task.WhenAll(processing);
    }

    /// <summary>Runs one message to completion; storage failures leave it to its lease, as when the host loses its connection.</summary>
    private async Task HandleAsync(QueueClient queue, string function, QueueMessage message)
    {
        await Task.Yield();
        var started = Stopwatch.GetTimestamp();
        var receipt = new Receipt(message.PopReceipt);
        using var renewing = new CancellationTokenSource();
        var renewal = RenewAsync(queue, message.MessageId, receipt, renewing.Token);
        var succeeded = false;
        try
        {
            try
            {
                await _host.InvokeQueueAsync(function, message);
                succeeded = true;
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _failed);
            }

            await renewing.CancelAsync();
            await renewal;
            if (succeeded)
            {
                await DeleteAsync(queue, message.MessageId, receipt.Value);
                Interlocked.Increment(ref _processed);
            }
            else if (message.DequeueCount >= _settings.MaxDequeueCount && queue != _poison)
            {
                await _poison.SendMessageAsync(message.Body);
                await DeleteAsync(queue, message.MessageId, receipt.Value);
                Interlocked.Increment(ref _poisoned);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, receipt.Value, visibilityTimeout: _settings.VisibilityTimeout);
                MarkRedeliveryDue(Stopwatch.GetTimestamp() + (long)(_settings.VisibilityTimeout.TotalSeconds * Stopwatch.Frequency));
            }
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            Interlocked.Increment(ref _storageErrors);
        }
        finally
        {
            Touch();
            Interlocked.Decrement(ref _inFlight);
            OnHandled?.Invoke(new HandledMessage(queue.Name, message.MessageId, message.DequeueCount, succeeded, Stopwatch.GetElapsedTime(started)));
        }
    }

    /// <summary>Keeps the message hidden while its function runs: the lease is renewed when half of it has passed.</summary>
    private async Task RenewAsync(QueueClient queue, string messageId, Receipt receipt, CancellationToken done)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_settings.MessageLease / 2, done);
                var updated = await queue.UpdateMessageAsync(messageId, receipt.Value, visibilityTimeout: _settings.MessageLease, cancellationToken: done);
                receipt.Value = updated.Value.PopReceipt;
            }
        }
        catch (OperationCanceledException) when (done.IsCancellationRequested)
        {
            // The function finished.
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            Interlocked.Increment(ref _storageErrors);
        }
    }

    private static async Task DeleteAsync(QueueClient queue, string messageId, string popReceipt)
    {
        try
        {
            await queue.DeleteMessageAsync(messageId, popReceipt);
        }
        catch (RequestFailedException ex) when (ex.Status is 400 or 404)
        {
            // Another instance took the message over after its lease ran out (pop receipt mismatch) or it is gone: theirs to delete.
        }
    }

    /// <summary>The host moves a message whose body is not base64 to the poison queue unchanged, without running the function.</summary>
    private async Task OnDecodingFailedAsync(QueueMessageDecodingFailedEventArgs args)
    {
        if (args.ReceivedMessage is not { } raw)
        {
            return;
        }

        await _poison.SendMessageAsync(raw.Body, cancellationToken: args.CancellationToken);
        await args.Queue.DeleteMessageAsync(raw.MessageId, raw.PopReceipt, args.CancellationToken);
        Interlocked.Increment(ref _undecodable);
        Touch();
    }

    /// <summary>
    /// Nothing in flight, nothing received for <paramref name="quiet"/>, and both queues polled empty since; the main queue
    /// also after the last failed message became visible again, since a poll while it is hidden sees an empty queue.
    /// </summary>
    private bool IsIdle(TimeSpan quiet)
    {
        var last = Interlocked.Read(ref _lastActivity);
        var mainQuietSince = Math.Max(last, Interlocked.Read(ref _redeliveryDue));
        return Volatile.Read(ref _inFlight) == 0
               && Stopwatch.GetElapsedTime(last) >= quiet
               && Interlocked.Read(ref _lastEmptyPollMain) > mainQuietSince
               && Interlocked.Read(ref _lastEmptyPollPoison) > last;
    }

    private void MarkRedeliveryDue(long timestamp)
    {
        var current = Interlocked.Read(ref _redeliveryDue);
        while (timestamp > current)
        {
            var seen = Interlocked.CompareExchange(ref _redeliveryDue, timestamp, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private void Touch() => Interlocked.Exchange(ref _lastActivity, Stopwatch.GetTimestamp());

    private static async Task DelayAsync(TimeSpan delay, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(delay, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private static bool IsStorageFailure(Exception ex) =>
        ex is RequestFailedException or HttpRequestException or IOException or AggregateException or TimeoutException
            or OperationCanceledException;

    /// <summary>The latest pop receipt of a message: each visibility update issues a new one.</summary>
    private sealed class Receipt(string value)
    {
        private string _value = value;

        public string Value
        {
            get => Volatile.Read(ref _value);
            set => Volatile.Write(ref _value, value);
        }
    }
}
