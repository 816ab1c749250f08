// PROVISIONAL: replaced by the retrieval branch at merge.
using Microsoft.Extensions.AI;
using RagFunctions.Core.Retrieval;

namespace RagFunctions.Core.Generation;

public static class PromptBuilder
{
    public static IList<ChatMessage> Build(string question, IReadOnlyList<RetrievedPassage> passages) =>
        [new ChatMessage(ChatRole.System, "x"), new ChatMessage(ChatRole.User, question)];
}
