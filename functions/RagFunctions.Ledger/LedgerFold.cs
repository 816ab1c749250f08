using System.Runtime.InteropServices;

namespace RagFunctions.Ledger;

/// <summary>What a fold changed and which Pushgateway groups may now be deleted.</summary>
public sealed record FoldOutcome(bool Changed, IReadOnlyList<string> Retire, int GroupsFolded);

/// <summary>
/// Folds instance groups into the ledger state. Pure: no I/O, the clock is a parameter.
/// Rules: the delta of each sample over the instance's watermark is added to the total; a group older than the
/// watermark (a stale copy, e.g. an older Pushgateway persistence snapshot) is ignored; a group newer than the
/// watermark with any sample below it means the instance restarted under the same key, so its values count afresh;
/// a group older than the stale age is folded one last time and its instance tombstoned, so the group can be deleted
/// and any later copy of it is dropped.
/// </summary>
public static class LedgerFold
{
    public static FoldOutcome Fold(LedgerState state, IReadOnlyList<InstanceGroup> groups, double now, double staleAfterSeconds, double tombstoneRetentionSeconds)
    {
        var changed = false;
        var retire = new List<string>();
        var seen = new HashSet<string>(groups.Count, StringComparer.Ordinal);
        var folded = 0;
        var buffers = new FoldBuffers();
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

            state.Instances.TryGetValue(group.Instance, out var mark);
            if (mark is not null && group.PushTime < mark.PushTime)
            {
                state.Counters.StaleReplaysIgnored++;
                changed = true;
            }
            else
            {
                changed |= FoldGroup(state, group, ref mark, buffers);
                folded++;
            }

            if (now - mark!.PushTime >= staleAfterSeconds)
            {
                Tombstone(state, group.Instance, now);
                state.Counters.GroupsRetired++;
                retire.Add(group.Instance);
                changed = true;
            }
        }

        // Instances whose group vanished (deleted by someone else, or a Pushgateway without persistence) stop being tracked once stale.
        // Found first, then tombstoned in the same order, so the dictionaries are not changed while they are enumerated.
        List<string>? vanished = null;
        foreach (var (instance, mark) in state.Instances)
        {
            if (!seen.Contains(instance) && now - mark.PushTime >= staleAfterSeconds)
            {
                (vanished ??= []).Add(instance);
            }
        }

        if (vanished is not null)
        {
            foreach (var instance in vanished)
            {
                Tombstone(state, instance, now);
            }

            changed = true;
        }

        List<string>? expired = null;
        foreach (var (instance, retiredAt) in state.Tombstones)
        {
            if (now - retiredAt >= tombstoneRetentionSeconds)
            {
                (expired ??= []).Add(instance);
            }
        }

        if (expired is not null)
        {
            foreach (var instance in expired)
            {
                state.Tombstones.Remove(instance);
            }

            changed = true;
        }

        return new FoldOutcome(changed, retire, folded);
    }

    private static bool FoldGroup(LedgerState state, InstanceGroup group, ref InstanceMark? mark, FoldBuffers buffers)
    {
        var changed = false;
        var samples = group.Samples;
        var count = samples.Count;

        // Each sample's watermark, read once: decides a restart (any sample below its watermark) and gives the deltas.
        var baseline = buffers.Baseline(count);
        var previous = mark?.Values;
        if (previous is not null)
        {
            var restarted = false;
            for (var i = 0; i < count; i++)
            {
                var sample = samples[i];
                var watermark = previous.GetValueOrDefault(sample.Id);
                baseline[i] = watermark;
                restarted |= sample.Value < watermark;
            }

            if (restarted)
            {
                state.Counters.InstanceRestarts++;
                Array.Clear(baseline, 0, count);
            }
        }
        else
        {
            Array.Clear(baseline, 0, count);
        }

        foreach (var (name, info) in group.Families)
        {
            if (!state.Families.TryGetValue(name, out var known) || known != info)
            {
                state.Families[name] = info;
                changed = true;
            }
        }

        // The group's watermarks replace the previous ones as a whole (samples no longer pushed, and zeros, are left out).
        var watermarks = buffers.TakeSpare(count);
        string? unitKey = null;
        LedgerUnit? unit = null;
        for (var i = 0; i < count; i++)
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

            var delta = value - baseline[i];
            if (delta > 0)
            {
                total += delta;
                changed = true;
            }

            if (value != 0)
            {
                watermarks[sample.Id] = value;
            }
        }

        if (mark is null)
        {
            mark = new InstanceMark();
            state.Instances[group.Instance] = mark;
            changed = true;
        }

        // Push time alone is not a change worth a write; it rides along with the next one.
        mark.PushTime = Math.Max(mark.PushTime, group.PushTime);
        mark.Values = watermarks;
        if (previous is not null)
        {
            // No longer reachable from the state (a failed commit discards the whole in-memory state anyway): reused for the next group.
            buffers.ReturnSpare(previous);
        }

        return changed;
    }

    private static void Tombstone(LedgerState state, string instance, double now)
    {
        state.Instances.Remove(instance);
        state.Tombstones[instance] = now;
    }

    /// <summary>
    /// Scratch space of one <see cref="Fold"/> call, so a known instance's group allocates nothing: the baseline array, and the
    /// watermark dictionary the previous group's instance just gave up (double-buffering: the new watermarks are built beside
    /// the old ones, which are read while building, then the two swap).
    /// </summary>
    private sealed class FoldBuffers
    {
        private double[] _baseline = [];
        private Dictionary<string, double>? _spare;

        public double[] Baseline(int count)
        {
            if (_baseline.Length < count)
            {
                _baseline = new double[count];
            }

            return _baseline;
        }

        public Dictionary<string, double> TakeSpare(int capacity)
        {
            var spare = _spare ?? new Dictionary<string, double>(capacity, StringComparer.Ordinal);
            _spare = null;
            return spare;
        }

        public void ReturnSpare(Dictionary<string, double> values)
        {
            values.Clear();
            _spare = values;
        }
    }
}
