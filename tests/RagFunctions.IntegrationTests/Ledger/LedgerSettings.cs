using System.Globalization;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>Ledger settings (without the <c>Ledger__</c> prefix) for a test run: fast cycles, short ages, its own state table.</summary>
internal static class LedgerSettings
{
    public static Dictionary<string, string> For(
        PushgatewayServer pushgateway, string storageConnectionString, string table, double foldSeconds, double staleAfter, double hold, double lease) => new()
    {
        ["PushgatewayUrl"] = pushgateway.Url.ToString(),
        ["StorageConnectionString"] = storageConnectionString,
        ["StateTable"] = table,
        ["FoldIntervalSeconds"] = foldSeconds.ToString(CultureInfo.InvariantCulture),
        ["StaleAfterSeconds"] = staleAfter.ToString(CultureInfo.InvariantCulture),
        ["FirstSampleHoldSeconds"] = hold.ToString(CultureInfo.InvariantCulture),
        ["LeaseSeconds"] = lease.ToString(CultureInfo.InvariantCulture),
        ["HttpTimeoutMilliseconds"] = "1000",
        ["TombstoneRetentionSeconds"] = "3600",
    };
}
