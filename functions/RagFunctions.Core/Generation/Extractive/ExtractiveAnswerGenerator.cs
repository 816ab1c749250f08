using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using RagFunctions.Core.Pricing;
using RagFunctions.Core.Retrieval;

namespace RagFunctions.Core.Generation.Extractive;

/// <summary>
/// Offline answerer: no model, no network. Receives the passages themselves, scores every sentence (or list item, table
/// row, code line) of them by how many distinct question terms it contains, and answers with the best 2–4 of them, each
/// followed by its passage citation [n]. Deterministic. Usage is real o200k token counts of the prompt a model would
/// have been sent (<see cref="PromptBuilder.Texts"/>) and of the answer.
/// </summary>
public sealed partial class ExtractiveAnswerGenerator : IAnswerGenerator
{
    public const string Model = LocalModels.Extractive;

    public const string NoContextAnswer =
        "I could not find this in the operations documentation. Try rephrasing the question, or search the runbooks directly.";

    private const int MaxSentences = 4;
    private const int MinSentences = 2;

    // Loading o200k takes ~230 ms in a fresh process. The load starts on the thread pool when the generator is composed
    // (the metrics pusher resolves it at host start), so it overlaps the index build instead of delaying the first answer.
    private static readonly Lazy<Task<Tokenizer>> SharedTokenizer =
        new(() => Task.Run<Tokenizer>(() => TiktokenTokenizer.CreateForEncoding("o200k_base")), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Starts loading the tokenizer in the background, once per process.</summary>
    public ExtractiveAnswerGenerator() => _ = SharedTokenizer.Value;

    /// <summary>The o200k tokenizer used for the counts (created once; thread-safe); waits for the background load.</summary>
    public static Tokenizer Tokenizer => SharedTokenizer.Value.GetAwaiter().GetResult();

    public string ModelId => Model;

    public Task<GeneratedAnswer> GenerateAsync(string question, IReadOnlyList<RetrievedPassage> passages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(question);
        ArgumentNullException.ThrowIfNull(passages);
        cancellationToken.ThrowIfCancellationRequested();
        var started = Stopwatch.GetTimestamp();
        var answer = passages.Count == 0 ? NoContextAnswer : Compose(question, passages);

        long input = 0;
        foreach (var text in PromptBuilder.Texts(question, passages))
        {
            input += Tokenizer.CountTokens(text);
        }

        var usage = new TokenUsage(input, Tokenizer.CountTokens(answer), 0, 0);
        return Task.FromResult(new GeneratedAnswer(answer, usage, Model, Stopwatch.GetElapsedTime(started)));
    }

    private static string Compose(string question, IReadOnlyList<RetrievedPassage> passages)
    {
        var questionTerms = Terms(question);
        var candidates = new List<Sentence>();
        for (var i = 0; i < passages.Count; i++)
        {
            var number = i + 1;
            var position = 0;
            foreach (var (text, isCode) in Units(passages[i].Text))
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

    [GeneratedRegex(@"^(?:[-*+>]|\d{1,3}[.)])\s+")]
    private static partial Regex ListMarker();

    [GeneratedRegex(@"(?<=[.!?])\s+(?=[A-Z`\[(""])")]
    private static partial Regex SentenceBoundary();

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex Word();

    [GeneratedRegex(@"(?<=[a-z0-9])(?=[A-Z])")]
    private static partial Regex CamelBoundary();
}
