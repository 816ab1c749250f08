using Microsoft.Extensions.Logging;

namespace RagFunctions.App;

/// <summary>The function app's own log events: EventIds 6000-6099.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Error, Message = "Function {Function} invocation {InvocationId} failed")]
    public static partial void Unhandled(ILogger logger, string function, string invocationId, Exception exception);
}
