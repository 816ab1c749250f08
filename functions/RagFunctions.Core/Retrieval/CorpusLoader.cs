namespace RagFunctions.Core.Retrieval;

/// <summary>
/// Reads the markdown corpus: every <c>*.md</c> under a folder, each starting with a front matter block
/// <code>
/// ---
/// id: runbook-daily-budget-exceeded
/// title: Runbook — DailyBudgetExceeded
/// domain: runbooks
/// ---
/// </code>
/// Any problem throws <see cref="CorpusException"/> naming the file, so a broken corpus fails start-up
/// instead of silently answering from less documentation.
/// </summary>
public static class CorpusLoader
{
    private const string Fence = "---";

    /// <summary>Loads every markdown file under <paramref name="corpusPath"/> (recursively), ordered by path.</summary>
    public static IReadOnlyList<CorpusDocument> Load(string corpusPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(corpusPath);
        var root = Path.GetFullPath(corpusPath);
        if (!Directory.Exists(root))
        {
            throw new CorpusException($"Corpus folder '{root}' does not exist (set Rag:CorpusPath).");
        }

        var files = Directory.GetFiles(root, "*.md", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        if (files.Length == 0)
        {
            throw new CorpusException($"Corpus folder '{root}' contains no *.md files (set Rag:CorpusPath).");
        }

        var documents = new List<CorpusDocument>(files.Length);
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var source = Path.GetRelativePath(root, file).Replace('\\', '/');
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CorpusException($"Corpus file '{source}' cannot be read: {ex.Message}", ex);
            }

            var document = Parse(text, source);
            if (sources.TryGetValue(document.Id, out var other))
            {
                throw new CorpusException($"Corpus file '{source}' reuses id '{document.Id}' already used by '{other}'.");
            }

            sources.Add(document.Id, source);
            documents.Add(document);
        }

        return documents;
    }

    /// <summary>Parses one corpus file's text; <paramref name="source"/> names it in error messages.</summary>
    public static CorpusDocument Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.TrimStart('\uFEFF').ReplaceLineEndings("\n").Split('\n');
        if (lines.Length == 0 || lines[0].Trim() != Fence)
        {
            throw new CorpusException($"Corpus file '{source}' must start with a front matter block ('---' on the first line).");
        }

        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var end = -1;
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line == Fence)
            {
                end = i;
                break;
            }

            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new CorpusException($"Corpus file '{source}' line {i + 1}: front matter line '{line}' is not 'key: value'.");
            }

            var key = line[..colon].Trim();
            var value = Unquote(line[(colon + 1)..].Trim());
            if (!fields.TryAdd(key, value))
            {
                throw new CorpusException($"Corpus file '{source}' line {i + 1}: front matter key '{key}' appears twice.");
            }
        }

        if (end < 0)
        {
            throw new CorpusException($"Corpus file '{source}': front matter block is not closed by a '---' line.");
        }

        var id = Required(fields, "id", source);
        var title = Required(fields, "title", source);
        var domain = Required(fields, "domain", source);
        RequireSlug(id, "id", source);
        RequireSlug(domain, "domain", source);

        var body = string.Join('\n', lines, end + 1, lines.Length - end - 1).Trim();
        if (body.Length == 0)
        {
            throw new CorpusException($"Corpus file '{source}' has front matter but no content.");
        }

        return new CorpusDocument(id, title, domain, body, source);
    }

    private static string Required(Dictionary<string, string> fields, string key, string source) =>
        fields.TryGetValue(key, out var value) && value.Length > 0
            ? value
            : throw new CorpusException($"Corpus file '{source}': front matter is missing '{key}' (id, title and domain are required).");

    private static void RequireSlug(string value, string key, string source)
    {
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                throw new CorpusException($"Corpus file '{source}': front matter '{key}' value '{value}' must use only a-z, 0-9 and '-'.");
            }
        }
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0] ? value[1..^1] : value;
}
