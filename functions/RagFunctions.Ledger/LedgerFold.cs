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
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var folded = 0;
        foreach (var group in groups)
        {
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
                changed |= FoldGroup(state, group, ref mark);
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
        foreach (var (instance, mark) in state.Instances.ToList())
        {
            if (!seen.Contains(instance) && now - mark.PushTime >= staleAfterSeconds)
            {
                Tombstone(state, instance, now);
                changed = true;
            }
        }

        foreach (var (instance, retiredAt) in state.Tombstones.ToList())
        {
            if (now - retiredAt >= tombstoneRetentionSeconds)
            {
                state.Tombstones.Remove(instance);
                changed = true;
            }
        }

        return new FoldOutcome(changed, retire, folded);
    }

    private static bool FoldGroup(LedgerState state, InstanceGroup group, ref InstanceMark? mark)
    {
        var changed = false;
        var baseline = mark?.Values;
        if (baseline is not null && group.Samples.Any(s => s.Value < baseline.GetValueOrDefault(s.Id)))
        {
            state.Counters.InstanceRestarts++;
            baseline = null;
        }

        foreach (var (name, info) in group.Families)
        {
            if (!state.Families.TryGetValue(name, out var known) || known != info)
            {
                state.Families[name] = info;
                changed = true;
            }
        }

        var watermarks = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var sample in group.Samples)
        {
            if (double.IsNaN(sample.Value) || double.IsInfinity(sample.Value))
            {
                continue;
            }

            if (!state.Units.TryGetValue(sample.Unit, out var unit))
            {
                unit = new LedgerUnit { Family = sample.Family, Labels = sample.Labels };
                state.Units[sample.Unit] = unit;
                changed = true;
            }

            if (!unit.Values.TryGetValue(sample.Part, out var total))
            {
                unit.Values[sample.Part] = total = 0;
                changed = true;
            }

            var delta = sample.Value - (baseline?.GetValueOrDefault(sample.Id) ?? 0);
            if (delta > 0)
            {
                unit.Values[sample.Part] = total + delta;
                changed = true;
            }

            if (sample.Value != 0)
            {
                watermarks[sample.Id] = sample.Value;
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
        return changed;
    }

    private static void Tombstone(LedgerState state, string instance, double now)
    {
        state.Instances.Remove(instance);
        state.Tombstones[instance] = now;
    }
}
