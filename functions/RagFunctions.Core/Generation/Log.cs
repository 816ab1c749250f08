using Microsoft.Extensions.Logging;

namespace RagFunctions.Core.Generation;

/// <summary>Generation's log events: EventIds 2000-2099 (Bedrock has 2100-2199).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Model {ModelId} has no price: its tokens are counted in rag_unpriced_tokens_total. Add it to Rag:Pricing:Models.")]
    public static partial void ModelHasNoPrice(ILogger logger, string modelId);
}
