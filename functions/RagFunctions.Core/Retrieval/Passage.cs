using System.Text;

namespace RagFunctions.Core.Retrieval;

/// <summary>A searchable unit of the corpus: a document's intro or one of its <c>##</c> sections.</summary>
public sealed record Passage(string Id, string Title, string Domain, string Text)
{
    /// <summary>
    /// Splits a document at its <c>##</c> headings (outside code fences). The text before the first one
    /// (minus the <c># </c> heading) keeps the document id; each section gets <c>docId#slug</c> and the title
    /// <c>doc title — heading</c>, so an answer can cite a focused piece rather than a whole runbook.
    /// </summary>
    public static IReadOnlyList<Passage> Split(CorpusDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var passages = new List<Passage>();
        var slugs = new HashSet<string>(StringComparer.Ordinal);
        string? heading = null;
        var text = new StringBuilder();
        var inFence = false;

        foreach (var line in document.Body.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
            }
            else if (!inFence && line.StartsWith("## ", StringComparison.Ordinal))
            {
                Flush();
                heading = line[3..].Trim();
                continue;
            }
            else if (!inFence && heading is null && line.StartsWith("# ", StringComparison.Ordinal))
            {
                continue; // the document's own H1 repeats the title
            }

            text.Append(line).Append('\n');
        }

        Flush();
        return passages;

        void Flush()
        {
            var body = text.ToString().Trim();
            text.Clear();
            if (body.Length == 0)
            {
                return;
            }

            if (heading is null)
            {
                passages.Add(new Passage(document.Id, document.Title, document.Domain, body));
                return;
            }

            var slug = Slug(heading);
            var unique = slug;
            for (var n = 2; !slugs.Add(unique); n++)
            {
                unique = $"{slug}-{n}";
            }

            passages.Add(new Passage($"{document.Id}#{unique}", $"{document.Title} — {heading}", document.Domain, body));
        }
    }

    /// <summary>Lower-case, ASCII letters and digits, words joined by '-' ("How to fix it?" → "how-to-fix-it").</summary>
    public static string Slug(string heading)
    {
        ArgumentNullException.ThrowIfNull(heading);
        var slug = new StringBuilder(heading.Length);
        foreach (var c in heading)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                slug.Append(char.ToLowerInvariant(c));
            }
            else if (slug.Length > 0 && slug[^1] != '-')
            {
                slug.Append('-');
            }
        }

        var result = slug.ToString().Trim('-');
        return result.Length == 0 ? "section" : result;
    }
}
