using System.Globalization;
using Microsoft.Extensions.AI;
using RagFunctions.Core.Retrieval;

namespace RagFunctions.Core.Generation;

/// <summary>
/// Renders the prompt for a question and its retrieved passages, for generators that take text: Bedrock and any
/// <see cref="IChatClient"/> through <see cref="ChatClientAnswerGenerator"/>. The extractive answerer takes the passages
/// themselves and counts the tokens of <see cref="Texts"/>, the same text. The chat shape:
/// <list type="number">
/// <item><description>
/// <c>ChatRole.System</c> message, one <see cref="TextContent"/>: <see cref="SystemInstructions"/>
/// (answer only from the context, cite passages as [n], say you don't know when there is no context).
/// </description></item>
/// <item><description>
/// <c>ChatRole.User</c> message whose contents are, in retrieval order (best first), one
/// <see cref="TextContent"/> per passage with text <c>"[n] {title}\n{text}"</c> (n from 1) and
/// <c>AdditionalProperties["rag.passage_id"] = passage id</c> (<see cref="PassageIdProperty"/>), then one last
/// <see cref="TextContent"/> <c>"Question: {question}"</c> (<see cref="QuestionPrefix"/>) without that property.
/// With no passages the user message holds only the question.
/// </description></item>
/// </list>
/// </summary>
public static class PromptBuilder
{
    /// <summary>AdditionalProperties key on a passage's TextContent carrying the passage id.</summary>
    public const string PassageIdProperty = "rag.passage_id";

    /// <summary>Prefix of the question TextContent.</summary>
    public const string QuestionPrefix = "Question: ";

    public const string SystemInstructions =
        "You answer questions from operators of the RagFunctions service using only the numbered context passages "
        + "from its operations documentation. Cite every statement with the passage number in square brackets, "
        + "for example [1] or [2][3]. Do not use outside knowledge and do not invent metric names, commands or values. "
        + "If there are no context passages, or they do not contain the answer, say that you don't know because it is "
        + "not in the operations documentation. Be concise: a few sentences, commands and queries verbatim.";

    public static IList<ChatMessage> Build(string question, IReadOnlyList<RetrievedPassage> passages)
    {
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(passages);

        var contents = new List<AIContent>(passages.Count + 1);
        for (var i = 0; i < passages.Count; i++)
        {
            contents.Add(new TextContent(PassageText(i + 1, passages[i]))
            {
                AdditionalProperties = new AdditionalPropertiesDictionary { [PassageIdProperty] = passages[i].Id },
            });
        }

        contents.Add(new TextContent(QuestionPrefix + question));
        return
        [
            new ChatMessage(ChatRole.System, SystemInstructions),
            new ChatMessage(ChatRole.User, contents),
        ];
    }

    /// <summary>Every text of the prompt, in order: the instructions, each passage, the question.</summary>
    public static IEnumerable<string> Texts(string question, IReadOnlyList<RetrievedPassage> passages)
    {
        yield return SystemInstructions;
        for (var i = 0; i < passages.Count; i++)
        {
            yield return PassageText(i + 1, passages[i]);
        }

        yield return QuestionPrefix + question;
    }

    private static string PassageText(int number, RetrievedPassage passage) =>
        string.Create(CultureInfo.InvariantCulture, $"[{number}] {passage.Title}\n{passage.Text}");
}
