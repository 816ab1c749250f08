using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using RagFunctions.Core.Pricing;
using RagFunctions.Core.Retrieval;

namespace RagFunctions.Core.Generation.Extractive;

/// <summary>
/// Offline answerer: no model, no network. Reads the prompt built by <see cref="PromptBuilder"/>, scores every
/// sentence (or list item, table row, code line) of the passages by how many distinct question terms it contains,
/// and answers with the best 2–4 of them, each followed by its passage citation [n]. Deterministic.
/// Usage is real o200k token counts: input = every <see cref="TextContent"/> of every input message, output = the answer.
/// </summary>
public sealed partial class ExtractiveChatClient : IChatClient
{
    public const string ModelId = LocalModels.Extractive;

    public const string NoContextAnswer =
        "I could not find this in the operations documentation. Try rephrasing the question, or search the runbooks directly.";

    private const int MaxSentences = 4;
    private const int MinSentences = 2;

    // Loading o200k takes ~230 ms in a fresh process. The load starts on the thread pool when the client is composed
    // (the metrics pusher resolves it at host start), so it overlaps the index build instead of delaying the first answer.
    private static readonly Lazy<Task<Tokenizer>> SharedTokenizer =
        new(() => Task.Run<Tokenizer>(() => TiktokenTokenizer.CreateForEncoding("o200k_base")), LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly ChatClientMetadata Metadata = new(ModelId, defaultModelId: ModelId);

    /// <summary>Starts loading the tokenizer in the background, once per process.</summary>
    public ExtractiveChatClient() => _ = SharedTokenizer.Value;

    /// <summary>The o200k tokenizer used for the counts (created once; thread-safe); waits for the background load.</summary>
    public static Tokenizer Tokenizer => SharedTokenizer.Value.GetAwaiter().GetResult();

    public Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Answer(messages as IReadOnlyCollection<ChatMessage> ?? [.. messages]));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        var text = response.Text;
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new TextContent(text), new UsageContent(response.Usage!)])
        {
            ModelId = response.ModelId,
            FinishReason = response.FinishReason,
            ResponseId = response.ResponseId,
            MessageId = response.Messages[0].MessageId,
        };
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? Metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    public void Dispose()
    {
        // Nothing to release: the tokenizer is shared and stateless.
    }

    private static ChatResponse Answer(IReadOnlyCollection<ChatMessage> messages)
    {
        var (question, passages) = ReadPrompt(messages);
        var answer = passages.Count == 0 ? NoContextAnswer : Compose(question, passages);

        long input = 0;
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                if (content is TextContent text)
                {
                    input += Tokenizer.CountTokens(text.Text);
                }
            }
        }

        long output = Tokenizer.CountTokens(answer);
        var responseId = Guid.NewGuid().ToString("N");
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, answer) { MessageId = responseId })
        {
            ModelId = ModelId,
            ResponseId = responseId,
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output },
        };
    }

    private static (string Question, List<(int Number, string Body)> Passages) ReadPrompt(IEnumerable<ChatMessage> messages)
    {
        var question = string.Empty;
        var passages = new List<(int, string)>();
        foreach (var message in messages)
        {
            if (message.Role != ChatRole.User)
            {
                continue;
            }

            foreach (var content in message.Contents)
            {
                if (content is not TextContent { Text: { } text })
                {
                    continue;
                }

                if (content.AdditionalProperties?.ContainsKey(PromptBuilder.PassageIdProperty) == true)
                {
                    passages.Add(ParsePassage(text, passages.Count + 1));
                }
                else
                {
                    question = text.StartsWith(PromptBuilder.QuestionPrefix, StringComparison.Ordinal)
                        ? text[PromptBuilder.QuestionPrefix.Length..]
                        : text;
                }
            }
        }

        return (question, passages);
    }

    // "[n] title\nbody" → (n, body); anything else keeps its position as the number.
    private static (int Number, string Body) ParsePassage(string text, int position)
    {
        var match = PassageHeader().Match(text);
        if (!match.Success)
        {
            return (position, text);
        }

        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        var body = newline < 0 ? string.Empty : text[(newline + 1)..];
        return (int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture), body);
    }

    private static string Compose(string question, List<(int Number, string Body)> passages)
    {
        var questionTerms = Terms(question);
        var candidates = new List<Sentence>();
        foreach (var (number, body) in passages)
        {
            var position = 0;
            foreach (var (text, isCode) in Units(body))
            {
                var score = 0;
                foreach (var term in Terms(text))
                {
                    if (questionTerms.Contains(term))
                    {
                        score++;
                    }
                }

                candidates.Add(new Sentence(text, isCode, number, position++, score));
            }
        }

        if (candidates.Count == 0)
        {
            return NoContextAnswer;
        }

        // Best first; ties go to the better-ranked passage, then to the earlier sentence.
        var ranked = candidates
            .OrderByDescending(s => s.Score)
            .ThenBy(s => s.Passage)
            .ThenBy(s => s.Position)
            .ToList();
        var best = ranked[0].Score;
        var chosen = ranked
            .Where(s => s.Score > 0 && s.Score * 2 >= best)
            .Take(MaxSentences)
            .ToList();
        foreach (var filler in ranked.Where(s => s.Score > 0).Concat(candidates))
        {
            if (chosen.Count >= MinSentences)
            {
                break;
            }

            if (!chosen.Contains(filler))
            {
                chosen.Add(filler);
            }
        }

        var answer = new StringBuilder();
        foreach (var sentence in chosen)
        {
            if (answer.Length > 0)
            {
                answer.Append(' ');
            }

            if (sentence.IsCode)
            {
                answer.Append('`').Append(sentence.Text).Append('`');
            }
            else
            {
                answer.Append(sentence.Text);
            }

            answer.Append(" [").Append(sentence.Passage.ToString(CultureInfo.InvariantCulture)).Append(']');
        }

        return answer.ToString();
    }

    // Sentences of prose paragraphs, list items, table rows and code lines of a markdown passage.
    private static IEnumerable<(string Text, bool IsCode)> Units(string markdown)
    {
        var paragraph = new StringBuilder();
        var inFence = false;
        foreach (var raw in markdown.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                foreach (var sentence in FlushParagraph(paragraph))
                {
                    yield return (sentence, false);
                }

                inFence = !inFence;
                continue;
            }

            if (inFence)
            {
                if (line.Length > 0)
                {
                    yield return (line, true);
                }

                continue;
            }

            var item = ListMarker().Match(line);
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith('|') || item.Success)
            {
                foreach (var sentence in FlushParagraph(paragraph))
                {
                    yield return (sentence, false);
                }
            }

            if (line.StartsWith('|'))
            {
                var cells = line.Trim('|').Split('|', StringSplitOptions.TrimEntries);
                if (!cells.All(c => c.Length == 0 || c.All(ch => ch is '-' or ':')))
                {
                    yield return (string.Join(" — ", cells.Where(c => c.Length > 0)), false);
                }
            }
            else if (line.Length > 0 && !line.StartsWith('#'))
            {
                paragraph.Append(paragraph.Length > 0 ? " " : string.Empty).Append(item.Success ? line[item.Length..] : line);
            }
        }

        foreach (var sentence in FlushParagraph(paragraph))
        {
            yield return (sentence, false);
        }
    }

    private static string[] FlushParagraph(StringBuilder paragraph)
    {
        if (paragraph.Length == 0)
        {
            return [];
        }

        var text = paragraph.ToString();
        paragraph.Clear();
        return SentenceBoundary().Split(text);
    }

    // Lower-cased words of 2+ characters, camelCase and snake_case split, crude suffixes removed, stop words dropped.
    private static HashSet<string> Terms(string text)
    {
        var terms = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match match in Word().Matches(CamelBoundary().Replace(text, " ")))
        {
            var word = match.Value.ToLowerInvariant();
            if (word.Length < 2 || LuceneRetriever.StopWords.Contains(word))
            {
                continue;
            }

            terms.Add(Stem(word));
        }

        return terms;
    }

    // Just enough stemming to match fires/fired/firing/fire and budgets/budget; deterministic and cheap.
    private static string Stem(string word)
    {
        if (word.Length > 4 && word.EndsWith("ies", StringComparison.Ordinal))
        {
            return word[..^3] + "y";
        }

        if (word.Length > 3 && word[^1] == 's' && word[^2] != 's')
        {
            word = word[..^1];
        }
        else if (word.Length > 5 && word.EndsWith("ing", StringComparison.Ordinal))
        {
            word = word[..^3];
        }
        else if (word.Length > 4 && word.EndsWith("ed", StringComparison.Ordinal))
        {
            word = word[..^2];
        }

        return word.Length > 3 && word[^1] == 'e' ? word[..^1] : word;
    }

    private sealed record Sentence(string Text, bool IsCode, int Passage, int Position, int Score);

    [GeneratedRegex(@"^\[(\d{1,4})\] ")]
    private static partial Regex PassageHeader();

    [GeneratedRegex(@"^(?:[-*+>]|\d{1,3}[.)])\s+")]
    private static partial Regex ListMarker();

    [GeneratedRegex(@"(?<=[.!?])\s+(?=[A-Z`\[(""])")]
    private static partial Regex SentenceBoundary();

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex Word();

    [GeneratedRegex(@"(?<=[a-z0-9])(?=[A-Z])")]
    private static partial Regex CamelBoundary();
}
