using Microsoft.Extensions.Logging;

namespace RagFunctions.Core.Budgets;

/// <summary>The budget gate's log events: EventIds 1200-1299.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning,
        Message = "Reading the budgets table {Table} failed; enforcing the {RowCount} rows read before (none: nothing is blocked) until the next read")]
    public static partial void BudgetReadFailed(ILogger logger, string table, int rowCount, Exception exception);
}
