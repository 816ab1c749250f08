using System.Runtime.InteropServices;
using RagFunctions.Core.Budgets;

namespace RagFunctions.Ledger;

/// <summary>What a fold changed and which Pushgateway groups may now be deleted.</summary>
public sealed record FoldOutcome(bool Changed, IReadOnlyList<string> Retire, int GroupsFolded);

/// <summary>
/// Folds instance groups into the ledger state. Pure: no I/O, the clock is a parameter.
/// Rules: every instance series has a max watermark (the highest value ever folded from it); a group adds, per sample,
/// max(0, value − watermark) to the total and raises the watermark to max(watermark, value). A value below its watermark
/// never counts again: the group is an older body (a push the Pushgateway applied late, after a newer one, stamping it with
/// a newer push_time_seconds; or a copy restored from an older persistence snapshot) and adds nothing. Out-of-order,
/// replayed or restored groups therefore never double count, and each instance contributes exactly the max (= final)
/// value of each of its monotonic series. That needs an instance id unique per process, which the pusher guarantees
/// (<c>&lt;pod or Rag:Push:Instance&gt;-&lt;start nonce&gt;</c>): a restart is a new instance, never a drop under a known one.
/// A group older than the stale age is folded one last time and its instance tombstoned, so the group can be deleted and
/// any later copy of it is dropped.
/// What it cannot prevent it reports: a tracked group missing before it went stale counts as vanished (its spend since
/// the last fold is lost), and an instance whose increase of a bounded family in one fold exceeds the bound counts as
/// implausible (the increase is still folded: the ledger reports, the operator decides).
/// </summary>
public static class LedgerFold
{
    /// <param name="plausibleMaxDelta">Family → largest plausible increase of one instance in one fold (summed over its series).</param>
    /// <param name="tenants">
    /// When set, each increase of rag_cost_dollars_total is also added, as an exact decimal, to the spend of its tenant
    /// (<see cref="TenantBudgets.TenantOfLabel"/> of its <c>tenant</c> label) in the UTC day and month of <paramref name="now"/>.
    /// </param>
    public static FoldOutcome Fold(LedgerState state, IReadOnlyList<InstanceGroup> groups, double now, double staleAfterSeconds, double tombstoneRetentionSeconds,
        IReadOnlyDictionary<string, double>? plausibleMaxDelta = null, TenantBudgets? tenants = null)
    {
        // A new day or month starts at 0 even in a fold with nothing to add.
        var changed = tenants is not null && state.Spend.RollTo(DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(now * 1000)));
        var retire = new List<string>();
        var seen = new HashSet<string>(groups.Count, StringComparer.Ordinal);
        var folded = 0;
        for (var g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            seen.Add(group.Instance);
            if (state.Tombstones.ContainsKey(group.Instance))
            {
                // Retired already (its last values are in the totals): a late or restored copy is dropped, not counted.
                retire.Add(group.Instance);
                state.Counters.TombstonedPushesDropped++;
                changed = true;
                continue;
            }

            changed |= FoldGroup(state, group, plausibleMaxDelta, tenants, out var mark);
            folded++;

            if (now - mark.PushTime >= staleAfterSeconds)
            {
                Tombstone(state, group.Instance, now);
                state.Counters.GroupsRetired++;
                retire.Add(group.Instance);
                changed = true;
            }
        }

        // Instances whose group vanished (deleted by someone else, or a Pushgateway without persistence) are counted once
        // per disappearance while still fresh (what they pushed after the last fold is lost), and stop being tracked once stale.
        // Removing the current entry while enumerating a Dictionary is allowed (.NET Core 3.0+); Tombstone removes from
        // Instances and adds only to Tombstones, which is not being enumerated here.
        foreach (var (instance, mark) in state.Instances)
        {
            if (seen.Contains(instance))
            {
                continue;
            }

            if (now - mark.PushTime >= staleAfterSeconds)
            {
                Tombstone(state, instance, now);
                changed = true;
            }
            else if (!mark.Vanished)
            {
                mark.Vanished = true;
                state.Counters.GroupsVanished++;
                changed = true;
            }
        }

        foreach (var (instance, retiredAt) in state.Tombstones)
        {
            if (now - retiredAt >= tombstoneRetentionSeconds)
            {
                state.Tombstones.Remove(instance);
                changed = true;
            }
        }

        return new FoldOutcome(changed, retire, folded);
    }

    /// <summary>
    /// Counts each push of a group under the ledger's own job once: a push the ledger read before (same grouping key,
    /// same push time) is not counted again, so a crash before its delete does not count it twice. Nothing is folded.
    /// </summary>
    public static bool CountForeign(LedgerState state, IReadOnlyList<ForeignGroup> foreign)
    {
        var changed = false;
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in foreign)
        {
            present.Add(group.Key);
            if (!state.Counters.ForeignSeen.TryGetValue(group.Key, out var seen) || !seen.Equals(group.PushTime))
            {
                state.Counters.ForeignSeen[group.Key] = group.PushTime;
                state.Counters.ForeignGroups++;
                changed = true;
            }
        }

        foreach (var key in state.Counters.ForeignSeen.Keys)
        {
            if (!present.Contains(key))
            {
                state.Counters.ForeignSeen.Remove(key);
                changed = true;
            }
        }

        return changed;
    }

    private static bool FoldGroup(LedgerState state, InstanceGroup group, IReadOnlyDictionary<string, double>? plausibleMaxDelta, TenantBudgets? tenants, out InstanceMark mark)
    {
        var changed = false;
        if (!state.Instances.TryGetValue(group.Instance, out var known))
        {
            known = new InstanceMark();
            state.Instances[group.Instance] = known;
            changed = true;
        }

        mark = known;
        if (mark.Vanished)
        {
            mark.Vanished = false; // Back (a pod re-pushes its whole registry): a later disappearance counts again.
            changed = true;
        }

        Dictionary<string, double>? increases = null;
        foreach (var (name, info) in group.Families)
        {
            if (!state.Families.TryGetValue(name, out var family) || family != info)
            {
                state.Families[name] = info;
                changed = true;
            }
        }

        // Watermarks are updated in place (a failed commit discards the whole in-memory state anyway). A series the group
        // does not carry keeps its watermark, so an older body that lacks it cannot make a later one count it again.
        var watermarks = mark.Values;
        var samples = group.Samples;
        var belowWatermark = false;
        string? unitKey = null;
        LedgerUnit? unit = null;
        for (var i = 0; i < samples.Count; i++)
        {
            var sample = samples[i];
            var value = sample.Value;
            if (!double.IsFinite(value))
            {
                continue;
            }

            // Consecutive samples mostly share a unit (a histogram's buckets, sum and count): look it up once for them.
            if (unit is null || !string.Equals(unitKey, sample.Unit, StringComparison.Ordinal))
            {
                unitKey = sample.Unit;
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(state.Units, unitKey, out var exists);
                if (!exists)
                {
                    slot = new LedgerUnit { Family = sample.Family, Labels = sample.Labels };
                    changed = true;
                }

                unit = slot!;
            }

            ref var total = ref CollectionsMarshal.GetValueRefOrAddDefault(unit.Values, sample.Part, out var counted);
            if (!counted)
            {
                changed = true; // A new series starts at 0.
            }

            // Zeros are not stored: a missing watermark is 0.
            var previous = watermarks.GetValueOrDefault(sample.Id);
            if (value > previous)
            {
                total += value - previous;
                watermarks[sample.Id] = value;
                changed = true;
                if (plausibleMaxDelta is not null && sample.Part == SamplePart.Counter && plausibleMaxDelta.ContainsKey(sample.Family))
                {
                    increases ??= new(StringComparer.Ordinal);
                    increases[sample.Family] = increases.GetValueOrDefault(sample.Family) + (value - previous);
                }

                if (tenants is not null && sample.Part == SamplePart.Counter && sample.Family == PlausibilityBounds.CostFamily)
                {
                    AddSpend(state.Spend, tenants, sample, previous, value);
                }
            }
            else if (value < previous)
            {
                belowWatermark = true;
            }
        }

        // An older body with a push time other than the one folded last: a late or restored push, ignored (its higher
        // predecessor is already counted). The same group read again in a later cycle has the same push time: not counted again.
        if (belowWatermark && group.PushTime != mark.PushTime)
        {
            state.Counters.StaleReplaysIgnored++;
            changed = true;
        }

        foreach (var (family, increase) in increases ?? [])
        {
            if (increase > plausibleMaxDelta![family])
            {
                state.Counters.ImplausibleDeltas[family] = state.Counters.ImplausibleDeltas.GetValueOrDefault(family) + 1;
            }
        }

        // Push time alone is not a change worth a write; it rides along with the next one.
        mark.PushTime = Math.Max(mark.PushTime, group.PushTime);
        return changed;
    }

    /// <summary>
    /// Adds the exact increase to the sample's tenant. Each instance's increases telescope to the exact decimal of its
    /// final value, so a tenant's spend is the exact sum over instances, whatever the fold boundaries. A value beyond
    /// decimal's range (only a forged push; it is counted as implausible) adds nothing.
    /// </summary>
    private static void AddSpend(TenantSpend spend, TenantBudgets tenants, Sample sample, double previous, double value)
    {
        if (TenantSpend.Exact(value) is { } to && TenantSpend.Exact(previous) is { } from)
        {
            spend.Add(tenants.TenantOfLabel(SamplePart.LabelValue(sample.Labels, "tenant")), to - from);
        }
    }

    private static void Tombstone(LedgerState state, string instance, double now)
    {
        state.Instances.Remove(instance);
        state.Tombstones[instance] = now;
    }
}
