using Microsoft.Extensions.Logging;

namespace RagFunctions.Core.Retrieval;

/// <summary>Retrieval's log events: EventIds 1100-1199.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information,
        Message = "Corpus indexed: {Documents} documents, {Passages} passages from {CorpusPath}")]
    public static partial void CorpusIndexed(ILogger logger, int documents, int passages, string corpusPath);
}
