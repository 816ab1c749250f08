using RagFunctions.Core.Retrieval;

namespace RagFunctions.Core.Generation;

/// <summary>
/// The generation port: answers a question from its retrieved passages and returns what it measured. Implemented by the
/// offline <see cref="Extractive.ExtractiveAnswerGenerator"/> and, for Bedrock or any other Microsoft.Extensions.AI
/// client, by <see cref="ChatClientAnswerGenerator"/>; metered once by <see cref="MeteredAnswerGenerator"/>.
/// </summary>
public interface IAnswerGenerator
{
    /// <summary>The configured model id: the metrics label and the answer's model, never a response field.</summary>
    string ModelId { get; }

    /// <param name="question">The validated question.</param>
    /// <param name="passages">The retrieved passages, best first; an answer cites them as [1], [2]… in this order.</param>
    Task<GeneratedAnswer> GenerateAsync(string question, IReadOnlyList<RetrievedPassage> passages, CancellationToken cancellationToken);
}

/// <summary>One generated answer: its text, the tokens it used (input excludes cache tokens), the model and how long it took.</summary>
public sealed record GeneratedAnswer(string Text, TokenUsage Usage, string ModelId, TimeSpan Latency);
