using System.Globalization;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using RagFunctions.Ledger;

namespace RagFunctions.Benchmarks;

/// <summary>
/// The ledger's pure fold (<see cref="LedgerFold.Fold"/>) over 10,000 instance groups, from in-memory input (no network,
/// no state store). Each group carries the rag_ counters and histograms of a real app registry (<see cref="AppRegistry"/>,
/// the same series an instance pushes). Target ≤ 5 s, memory flat.
/// <list type="bullet">
/// <item><description>"first fold": one cycle that finds 10,000 groups it has never seen (the worst case: every watermark is new).</description></item>
/// <item><description>"steady fold": the next cycle over the same 10,000 instances, newer push and higher values.</description></item>
/// <item><description>"10,000 lifetimes": 200 fold cycles 5 s apart, 50 new instances per cycle, each pushing twice and then
/// left on the Pushgateway until the fold retires it (stale after 15 s). Memory flat: the state keeps only live instances'
/// watermarks (plus tombstones, one double each), whatever the number of lifetimes; the sizes are printed after each run.</description></item>
/// </list>
/// </summary>
[Config(typeof(PercentilesConfig))]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class LedgerFoldBenchmarks
{
    private const int Groups = 10_000;
    private const double FoldInterval = 5;
    private const double StaleAfter = 15;
    private const double TombstoneRetention = 7 * 24 * 3600;
    private const int LifetimeCycles = 200;
    private const int NewInstancesPerCycle = Groups / LifetimeCycles;
    private const double Start = 1_800_000_000;

    private IReadOnlyDictionary<string, FamilyInfo> _families = null!;
    private IReadOnlyList<Sample> _firstPush = null!;
    private IReadOnlyList<Sample> _secondPush = null!;
    private InstanceGroup[] _cycleOne = null!;
    private InstanceGroup[] _cycleTwo = null!;
    private LedgerState _state = null!;

    [GlobalSetup]
    public void Setup()
    {
        var exposition = System.Text.Encoding.UTF8.GetString(AppRegistry.Serialize(AppRegistry.Create()));
        (_families, _secondPush) = ExpositionSamples.Read(exposition);
        _firstPush = [.. _secondPush.Select(s => s with { Value = Math.Floor(s.Value / 2) })];
        _cycleOne = [.. Enumerable.Range(0, Groups).Select(i => new InstanceGroup(Instance(i), Start, _families, _firstPush))];
        _cycleTwo = [.. Enumerable.Range(0, Groups).Select(i => new InstanceGroup(Instance(i), Start + FoldInterval, _families, _secondPush))];
        Console.WriteLine($"// Ledger input: {Groups} groups x {_secondPush.Count} samples ({_families.Count} rag_ families)");
    }

    [IterationSetup(Target = nameof(FirstFold))]
    public void FreshState() => _state = new LedgerState();

    [IterationSetup(Target = nameof(SteadyFold))]
    public void StateAfterOneCycle()
    {
        _state = new LedgerState();
        LedgerFold.Fold(_state, _cycleOne, Start, StaleAfter, TombstoneRetention);
    }

    [IterationSetup(Target = nameof(TenThousandLifetimes))]
    public void FreshStateForLifetimes() => _state = new LedgerState();

    [IterationCleanup]
    public void Report()
    {
        var summary = Describe(_state);
        var withState = HeapAfterFullCollection();
        _state = null!;
        var retained = withState - HeapAfterFullCollection();
        Console.WriteLine($"{summary}, ~{retained / 1024 / 1024} MB retained");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string Describe(LedgerState state) =>
        $"// Ledger state: {state.Instances.Count} instances ({state.Instances.Values.Sum(m => m.Values.Count)} watermarks), " +
        $"{state.Tombstones.Count} tombstones, {state.Units.Count} units";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long HeapAfterFullCollection() => GC.GetTotalMemory(forceFullCollection: true);

    [Benchmark(Baseline = true, Description = "first fold, 10,000 new groups")]
    public int FirstFold() => LedgerFold.Fold(_state, _cycleOne, Start, StaleAfter, TombstoneRetention).GroupsFolded;

    [Benchmark(Description = "steady fold, 10,000 known groups")]
    public int SteadyFold() => LedgerFold.Fold(_state, _cycleTwo, Start + FoldInterval, StaleAfter, TombstoneRetention).GroupsFolded;

    [Benchmark(Description = "10,000 lifetimes, 200 cycles")]
    public int TenThousandLifetimes()
    {
        // What the Pushgateway holds at each cycle: instance → (push time, samples). Retired groups are deleted, as the worker does.
        var onGateway = new Dictionary<string, InstanceGroup>(StringComparer.Ordinal);
        var folded = 0;
        for (var cycle = 0; cycle < LifetimeCycles + (int)(StaleAfter / FoldInterval) + 1; cycle++)
        {
            var now = Start + (cycle * FoldInterval);
            if (cycle < LifetimeCycles)
            {
                for (var i = 0; i < NewInstancesPerCycle; i++)
                {
                    var name = Instance((cycle * NewInstancesPerCycle) + i);
                    onGateway[name] = new InstanceGroup(name, now, _families, _firstPush);
                }
            }

            // Last cycle's newcomers push their second (final) values.
            if (cycle is > 0 and <= LifetimeCycles)
            {
                for (var i = 0; i < NewInstancesPerCycle; i++)
                {
                    var name = Instance(((cycle - 1) * NewInstancesPerCycle) + i);
                    onGateway[name] = new InstanceGroup(name, now, _families, _secondPush);
                }
            }

            var outcome = LedgerFold.Fold(_state, [.. onGateway.Values], now, StaleAfter, TombstoneRetention);
            folded += outcome.GroupsFolded;
            foreach (var retired in outcome.Retire)
            {
                onGateway.Remove(retired);
            }
        }

        if (onGateway.Count != 0 || _state.Instances.Count != 0 || _state.Tombstones.Count != Groups)
        {
            throw new InvalidOperationException($"Lifetimes not all retired: {onGateway.Count} groups, {_state.Instances.Count} instances left.");
        }

        return folded;
    }

    private static string Instance(int i) => "rag-functions-7d9f8c-" + i.ToString("x5", CultureInfo.InvariantCulture);
}

/// <summary>Turns an exposition text into the ledger's samples, as <see cref="PushgatewayGroups.Parse"/> does from the JSON API.</summary>
public static class ExpositionSamples
{
    public static (IReadOnlyDictionary<string, FamilyInfo> Families, IReadOnlyList<Sample> Samples) Read(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var helps = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal) || line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ', 2);
                (line[2] == 'T' ? types : helps)[parts[0]] = parts.Length > 1 ? parts[1] : string.Empty;
                continue;
            }

            if (line[0] == '#')
            {
                continue;
            }

            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var close = line.LastIndexOf('}');
            var name = brace < 0 ? line[..line.IndexOf(' ', StringComparison.Ordinal)] : line[..brace];
            var labels = brace < 0 ? [] : ParseLabels(line[(brace + 1)..close]);
            _ = SamplePart.TryParseValue(line[((brace < 0 ? name.Length : close) + 1)..].Trim().Split(' ')[0], out var value);
            if (types.GetValueOrDefault(name) == "counter")
            {
                samples.Add(new Sample(name, SamplePart.CanonicalLabels(labels), SamplePart.Counter, value));
                continue;
            }

            foreach (var (suffix, part) in new[] { ("_bucket", (string?)null), ("_sum", SamplePart.Sum), ("_count", SamplePart.Count) })
            {
                var family = name.EndsWith(suffix, StringComparison.Ordinal) ? name[..^suffix.Length] : null;
                if (family is null || types.GetValueOrDefault(family) != "histogram")
                {
                    continue;
                }

                var bucketPart = part ?? (SamplePart.TryParseValue(labels.First(l => l.Key == "le").Value, out var bound) ? SamplePart.Bucket(bound) : null);
                if (bucketPart is not null)
                {
                    samples.Add(new Sample(family, SamplePart.CanonicalLabels(labels), bucketPart, value));
                }
            }
        }

        var families = types.Where(t => t.Key.StartsWith("rag_", StringComparison.Ordinal) && t.Value is "counter" or "histogram")
            .ToDictionary(t => t.Key, t => new FamilyInfo(t.Value, helps.GetValueOrDefault(t.Key, string.Empty)), StringComparer.Ordinal);
        return (families, samples.Where(s => families.ContainsKey(s.Family)).ToList());
    }

    // name="value",... with the text format's escapes; label values here come from bounded sets.
    private static List<KeyValuePair<string, string>> ParseLabels(string text)
    {
        var labels = new List<KeyValuePair<string, string>>();
        var i = 0;
        while (i < text.Length)
        {
            var equals = text.IndexOf('=', i);
            var name = text[i..equals].Trim(' ', ',');
            var value = new System.Text.StringBuilder();
            var j = equals + 2;
            for (; text[j] != '"'; j++)
            {
                if (text[j] == '\\')
                {
                    j++;
                    value.Append(text[j] == 'n' ? '\n' : text[j]);
                    continue;
                }

                value.Append(text[j]);
            }

            labels.Add(new(name, value.ToString()));
            i = j + 1;
        }

        return labels;
    }
}
