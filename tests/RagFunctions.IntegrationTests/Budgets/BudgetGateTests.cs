using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Options;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Budgets;

/// <summary>
/// The gate's decision over the ledger's rows on real Azurite, on a fake clock: tenant and global hard limits, daily
/// and monthly windows, resets, soft limits, the refresh interval and a storage outage.
/// </summary>
public sealed class BudgetGateTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    // 10:00 UTC on the 5th: the day resets in 14 h, the month on the 1st.
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NextDay = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NextMonth = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(Start);
    private readonly RecordingLogger _log = new();

    /// <summary>Tenant acme: daily soft $0.50, hard $1, monthly hard $10; global: daily hard $5, monthly hard $50.</summary>
    private static BudgetOptions Limits(string table, double refreshSeconds = 5) => new()
    {
        Tenants =
        [
            new TenantOptions
            {
                KeyName = "acme-key", Name = "acme",
                Daily = new WindowLimits { Soft = 0.5m, Hard = 1m },
                Monthly = new WindowLimits { Hard = 10m },
            },
            new TenantOptions { KeyName = "free-key", Name = "free" },
        ],
        Budgets = new GlobalBudgetOptions
        {
            Table = table,
            RefreshSeconds = refreshSeconds,
            Daily = new WindowLimits { Hard = 5m },
            Monthly = new WindowLimits { Hard = 50m },
        },
    };

    private BudgetGate Gate(BudgetTable table, double refreshSeconds = 5, string? connectionString = null)
    {
        var options = Limits(table.Name, refreshSeconds);
        return new BudgetGate(
            Options.Create(new StorageOptions { ConnectionString = connectionString ?? azurite.ConnectionString }),
            Options.Create(options), new TenantBudgets(options), _clock, _log);
    }

    /// <summary>A gate that has read acme's daily spend of <paramref name="spent"/> (at or past its $1 hard limit) and blocks it.</summary>
    private async Task<BudgetGate> BlockedAsync(decimal spent)
    {
        var table = new BudgetTable(azurite.ConnectionString);
        await table.WriteAsync("acme", BudgetWindow.Daily, spent, Start);
        var gate = Gate(table);
        Assert.NotNull(await gate.CheckAsync("acme", CancellationToken.None));
        return gate;
    }

    [Fact]
    public async Task ATenantAtItsDailyHardLimitIsBlockedUntilMidnightUtc()
    {
        var table = new BudgetTable(azurite.ConnectionString);
        await table.WriteAsync("acme", BudgetWindow.Daily, 1m, Start);

        var exhausted = await Gate(table).CheckAsync("acme", CancellationToken.None);

        Assert.Equal(new BudgetExhausted("acme", "acme", BudgetWindow.Daily, NextDay), exhausted);
    }

    [Fact]
    public async Task SpendBelowTheHardLimitPassesEvenAboveTheSoftLimit()
    {
        var table = new BudgetTable(azurite.ConnectionString);
        await table.WriteAsync("acme", BudgetWindow.Daily, 0.9999m, Start);
        await table.WriteAsync(BudgetOptions.AllTenants, BudgetWindow.Daily, 0.9999m, Start);

        Assert.Null(await Gate(table).CheckAsync("acme", CancellationToken.None));
    }

    [Fact]
    public async Task TheGlobalHardLimitBlocksEveryTenantNamingTheGlobalBudget()
    {
        var table = new BudgetTable(azurite.ConnectionString);
        await table.WriteAsync("acme", BudgetWindow.Daily, 0.10m, Start);
        await table.WriteAsync(BudgetOptions.AllTenants, BudgetWindow.Daily, 5m, Start);
        var gate = Gate(table);

        Assert.Equal(new BudgetExhausted("acme", BudgetOptions.AllTenants, BudgetWindow.Daily, NextDay), await gate.CheckAsync("acme", CancellationToken.None));
        // A tenant without limits of its own is held by the global one too.
        Assert.Equal(new BudgetExhausted("free", BudgetOptions.AllTenants, BudgetWindow.Daily, NextDay), await gate.CheckAsync("free", CancellationToken.None));
        Assert.Equal(BudgetOptions.AllTenants, (await gate.CheckAsync(BudgetOptions.DefaultTenant, CancellationToken.None))?.ExhaustedBudget);
    }

    [Fact]
    public async Task OfSeveralExhaustedBudgetsTheOneThatResetsLastIsReported()
    {
        var table = new BudgetTable(azurite.ConnectionString);
        await table.WriteAsync("acme", BudgetWindow.Daily, 2m, Start);
        await table.WriteAsync(BudgetOptions.AllTenants, BudgetWindow.Monthly, 50m, Start);

        var exhausted = await Gate(table).CheckAsync("acme", CancellationToken.None);

        // Retrying at midnight would still meet the month's limit: the month's reset is when a retry can succeed.
        Assert.Equal(new BudgetExhausted("acme", BudgetOptions.AllTenants, BudgetWindow.Monthly, NextMonth), exhausted);
    }

    [Fact]
    public async Task ARowWhoseWindowHasResetCountsNothing()
    {
        var gate = await BlockedAsync(3m);

        // The ledger has not folded since midnight: its row still says $3, for the day that ended.
        _clock.SetUtcNow(NextDay);

        Assert.Null(await gate.CheckAsync("acme", CancellationToken.None));
    }

    [Fact]
    public async Task AMissingTableOrRowIsNothingSpent()
    {
        var table = new BudgetTable(azurite.ConnectionString);

        Assert.Null(await Gate(table).CheckAsync("acme", CancellationToken.None));
    }

    [Fact]
    public async Task RowsAreReadAgainOnlyOnceTheRefreshIntervalHasPassed()
    {
        var table = new BudgetTable(azurite.ConnectionString);
        await table.WriteAsync("acme", BudgetWindow.Daily, 0.2m, Start);
        var gate = Gate(table, refreshSeconds: 5);
        Assert.Null(await gate.CheckAsync("acme", CancellationToken.None));

        await table.WriteAsync("acme", BudgetWindow.Daily, 1.5m, Start);
        _clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Null(await gate.CheckAsync("acme", CancellationToken.None));

        _clock.Advance(TimeSpan.FromSeconds(0.1));
        var callers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => gate.CheckAsync("acme", CancellationToken.None).AsTask()));
        Assert.All(callers, exhausted => Assert.Equal("acme", exhausted?.ExhaustedBudget));
    }

    [Fact]
    public async Task StorageThatCannotBeReachedBeforeTheFirstReadBlocksNothing()
    {
        var table = new BudgetTable(azurite.ConnectionString);
        var unreachable = azurite.ConnectionString.Replace($":{azurite.TablePort}/", $":{FreePort.Next()}/", StringComparison.Ordinal);

        Assert.Null(await Gate(table, connectionString: unreachable).CheckAsync("acme", CancellationToken.None));
        Assert.Equal([1201], _log.EventIds);
    }

    [Fact]
    public async Task AFailedRefreshKeepsTheRowsReadBefore()
    {
        var gate = await BlockedAsync(1m);

        var restart = azurite.RestartGracefullyAsync(TimeSpan.FromSeconds(6));
        await Poll.UntilAsync(() => Task.FromResult(!Listening(azurite.TablePort)), TimeSpan.FromSeconds(20), "Azurite's table service to stop");
        _clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(new BudgetExhausted("acme", "acme", BudgetWindow.Daily, NextDay), await gate.CheckAsync("acme", CancellationToken.None));
        Assert.Equal([1201], _log.EventIds);
        await restart;
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The EventIds the gate logged.</summary>
    private sealed class RecordingLogger : ILogger<BudgetGate>
    {
        private readonly ConcurrentQueue<int> _ids = new();

        public IReadOnlyList<int> EventIds => [.. _ids];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _ids.Enqueue(eventId.Id);
    }
}
