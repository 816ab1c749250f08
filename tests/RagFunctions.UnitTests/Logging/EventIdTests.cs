using System.Reflection;
using Microsoft.Extensions.Logging;
using RagFunctions.App.Middleware;
using RagFunctions.Core.Pipeline;
using RagFunctions.Ledger;

namespace RagFunctions.UnitTests.Logging;

/// <summary>
/// The app and the ledger write to one log stream per process, so an EventId must name one event across Core, App and
/// Ledger. Each area owns a range; the table below is the register of those ranges.
/// </summary>
public sealed class EventIdTests
{
    private static readonly Assembly[] ProductionAssemblies =
    [
        typeof(RagPipeline).Assembly,
        typeof(ProblemDetailsMiddleware).Assembly,
        typeof(ILedgerCycleObserver).Assembly,
    ];

    // Longest namespace first, so Generation.Bedrock wins over Generation.
    private static readonly (string Namespace, int First, int Last)[] Ranges =
    [
        ("RagFunctions.Core.Generation.Bedrock", 2100, 2199),
        ("RagFunctions.Core.Metrics.Push", 5000, 5099),
        ("RagFunctions.Core.Generation", 2000, 2099),
        ("RagFunctions.Core.Retrieval", 1100, 1199),
        ("RagFunctions.Core.Budgets", 1200, 1299),
        ("RagFunctions.Core.Pipeline", 1000, 1099),
        ("RagFunctions.Core.Batches", 3000, 3099),
        ("RagFunctions.Ledger", 4000, 4099),
        ("RagFunctions.App", 6000, 6099),
    ];

    private sealed record LogEvent(int EventId, string Method, string? Namespace);

    private static List<LogEvent> ProductionEvents() =>
    [
        .. from assembly in ProductionAssemblies
           from type in assembly.GetTypes()
           from method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
           let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
           where attribute is not null
           select new LogEvent(attribute.EventId, $"{type.FullName}.{method.Name}", type.Namespace),
    ];

    private static IEnumerable<string> Duplicates(IEnumerable<LogEvent> events) =>
        events.GroupBy(e => e.EventId)
            .Where(g => g.Count() > 1)
            .Select(g => $"EventId {g.Key}: {string.Join(", ", g.Select(e => e.Method))}");

    [Fact]
    public void EveryProductionAssemblyDeclaresLogEvents()
    {
        var events = ProductionEvents();

        foreach (var assembly in ProductionAssemblies)
        {
            Assert.Contains(events, e => e.Method.StartsWith(assembly.GetName().Name + ".", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void EveryEventIdNamesOneEventAcrossCoreAppAndLedger()
    {
        var duplicates = Duplicates(ProductionEvents()).ToList();

        Assert.True(duplicates.Count == 0, "EventIds used more than once:\n" + string.Join("\n", duplicates));
    }

    [Fact]
    public void EveryEventIdLiesInItsAreasRange()
    {
        var misplaced = ProductionEvents()
            .Select(e => (Event: e, Range: Ranges.FirstOrDefault(r => e.Namespace == r.Namespace || e.Namespace?.StartsWith(r.Namespace + ".", StringComparison.Ordinal) == true)))
            .Where(x => x.Range.Namespace is null || x.Event.EventId < x.Range.First || x.Event.EventId > x.Range.Last)
            .Select(x => x.Range.Namespace is null
                ? $"{x.Event.Method} ({x.Event.EventId}): its namespace has no range in EventIdTests.Ranges"
                : $"{x.Event.Method} ({x.Event.EventId}): outside {x.Range.Namespace}'s {x.Range.First}-{x.Range.Last}")
            .ToList();

        Assert.True(misplaced.Count == 0, "EventIds outside their area's range:\n" + string.Join("\n", misplaced));
    }

    [Fact]
    public void TheDuplicateCheckNamesBothMethodsOfACollision()
    {
        LogEvent[] events = [new(3001, "Batches.Log.BatchSubmitted", null), new(3001, "Push.Log.PushRejected", null), new(3002, "Batches.Log.AlreadyAnswered", null)];

        var duplicate = Assert.Single(Duplicates(events));

        Assert.Equal("EventId 3001: Batches.Log.BatchSubmitted, Push.Log.PushRejected", duplicate);
    }
}
