using System.Text;
using System.Text.RegularExpressions;
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Core;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Analysis.Util;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using Microsoft.Extensions.Logging;

namespace RagFunctions.Core.Retrieval;

/// <summary>
/// BM25 retrieval over an in-memory Lucene index of the corpus passages, built once at construction.
/// The question is analysed into terms (never parsed as query syntax, so no input can throw); each term
/// is matched against the passage text and, boosted, its title; the domain is a non-scoring filter.
/// Thread-safe: one <see cref="IndexSearcher"/> over one reader serves concurrent queries.
/// </summary>
public sealed partial class LuceneRetriever : IRetriever, IDisposable
{
    /// <summary>Distinct question terms used at most; bounds query size for very long input.</summary>
    public const int MaxQueryTerms = 128;

    private const LuceneVersion Version = LuceneVersion.LUCENE_48;
    private const float TitleBoost = 2.5f;
    private const string IdField = "id";
    private const string TitleField = "title";
    private const string TextField = "text";
    private const string DomainField = "domain";
    private const string OrdinalField = "ord";

    private readonly Analyzer analyzer;
    private readonly RAMDirectory directory;
    private readonly DirectoryReader reader;
    private readonly IndexSearcher searcher;
    private readonly Passage[] passagesByDoc;
    private readonly Dictionary<string, TermQuery> textQueries;
    private readonly Dictionary<string, TermQuery> titleQueries;

    /// <summary>Indexes the given documents.</summary>
    public LuceneRetriever(IReadOnlyList<CorpusDocument> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var passages = documents.SelectMany(Passage.Split).ToArray();
        analyzer = new EnglishAnalyzer(Version, StopWords);
        directory = new RAMDirectory();
        var similarity = new BM25Similarity();
        using (var writer = new IndexWriter(directory, new IndexWriterConfig(Version, analyzer) { Similarity = similarity }))
        {
            for (var i = 0; i < passages.Length; i++)
            {
                var passage = passages[i];
                writer.AddDocument(new Document
                {
                    new StringField(IdField, passage.Id, Field.Store.NO),
                    new StringField(DomainField, passage.Domain, Field.Store.NO),
                    new TextField(TitleField, WithCompoundParts(passage.Title), Field.Store.NO),
                    new TextField(TextField, WithCompoundParts(passage.Text), Field.Store.NO),
                    new NumericDocValuesField(OrdinalField, i),
                });
            }

            writer.Commit();
        }

        reader = DirectoryReader.Open(directory);
        searcher = new IndexSearcher(reader) { Similarity = similarity };

        // Map Lucene doc ids to passages once, so a query reads no stored fields.
        passagesByDoc = new Passage[reader.MaxDoc];
        var ordinals = MultiDocValues.GetNumericValues(reader, OrdinalField);
        for (var doc = 0; doc < passagesByDoc.Length; doc++)
        {
            passagesByDoc[doc] = passages[(int)ordinals.Get(doc)];
        }

        // One ready TermQuery (with its term statistics resolved) per indexed term: a query then does no
        // terms-dictionary lookups, skips terms the corpus does not contain, and allocates little.
        textQueries = TermQueries(reader, TextField, 1f);
        titleQueries = TermQueries(reader, TitleField, TitleBoost);

        DocumentCount = documents.Count;
        Passages = passages;
    }

    /// <summary>Number of corpus documents indexed.</summary>
    public int DocumentCount { get; }

    /// <summary>All indexed passages, in corpus order.</summary>
    public IReadOnlyList<Passage> Passages { get; }

    /// <summary>
    /// English stop words plus question words that carry no topic ("what do I do when…"); the extractive answerer
    /// ignores the same words.
    /// </summary>
    internal static CharArraySet StopWords { get; } = BuildStopWords();

    /// <summary>Loads the corpus folder and indexes it.</summary>
    public static LuceneRetriever FromPath(string corpusPath) => new(CorpusLoader.Load(corpusPath));

    /// <summary>Loads the configured corpus (failing with <see cref="CorpusException"/> if it is broken) and indexes it.</summary>
    public static LuceneRetriever Create(RetrievalOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var path = options.ResolveCorpusPath();
        var retriever = FromPath(path);
        if (logger is not null)
        {
            Log.CorpusIndexed(logger, retriever.DocumentCount, retriever.Passages.Count, path);
        }

        return retriever;
    }

    /// <inheritdoc />
    public RetrievalResult Retrieve(string question, string? domain, int topK)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        if (string.IsNullOrWhiteSpace(question))
        {
            return RetrievalResult.Empty;
        }

        var matches = new BooleanQuery(disableCoord: true);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using (var stream = analyzer.GetTokenStream(TextField, question))
        {
            var term = stream.AddAttribute<ICharTermAttribute>();
            stream.Reset();
            while (seen.Count < MaxQueryTerms && stream.IncrementToken())
            {
                var text = term.ToString();
                if (!seen.Add(text))
                {
                    continue;
                }

                if (textQueries.TryGetValue(text, out var inText))
                {
                    matches.Add(inText, Occur.SHOULD);
                }

                if (titleQueries.TryGetValue(text, out var inTitle))
                {
                    matches.Add(inTitle, Occur.SHOULD);
                }
            }

            stream.End();
        }

        if (matches.Clauses.Count == 0)
        {
            return RetrievalResult.Empty;
        }

        Query query = matches;
        if (!string.IsNullOrWhiteSpace(domain))
        {
            // Lucene 4.8 has no FILTER clause: a MUST clause with boost 0 filters without changing scores.
            query = new BooleanQuery(disableCoord: true)
            {
                { matches, Occur.MUST },
                { new TermQuery(new Term(DomainField, domain.Trim().ToLowerInvariant())) { Boost = 0f }, Occur.MUST },
            };
        }

        // In-order collection keeps BooleanQuery off the out-of-order BooleanScorer, whose per-query bucket
        // table of 2048 objects dominated allocations; for a corpus this size in-order scoring is as fast.
        var collector = TopScoreDocCollector.Create(topK, docsScoredInOrder: true);
        searcher.Search(query, collector);
        var hits = collector.GetTopDocs().ScoreDocs;
        if (hits.Length == 0)
        {
            return RetrievalResult.Empty;
        }

        var results = new RetrievedPassage[hits.Length];
        for (var i = 0; i < hits.Length; i++)
        {
            var passage = passagesByDoc[hits[i].Doc];
            results[i] = new RetrievedPassage(passage.Id, passage.Title, passage.Domain, passage.Text, hits[i].Score);
        }

        return new RetrievalResult(results);
    }

    public void Dispose()
    {
        reader.Dispose();
        directory.Dispose();
        analyzer.Dispose();
    }

    private static Dictionary<string, TermQuery> TermQueries(IndexReader reader, string field, float boost)
    {
        var queries = new Dictionary<string, TermQuery>(StringComparer.Ordinal);
        var terms = MultiFields.GetTerms(reader, field);
        if (terms is null)
        {
            return queries;
        }

        var enumerator = terms.GetEnumerator();
        while (enumerator.MoveNext())
        {
            var term = new Term(field, BytesRef.DeepCopyOf(enumerator.Term));
            queries.Add(term.Text, new TermQuery(term, TermContext.Build(reader.Context, term)) { Boost = boost });
        }

        return queries;
    }

    /// <summary>
    /// Appends the parts of compound identifiers (DailyBudgetExceeded, rag_cost_dollars_total,
    /// rag:spend_today_dollars) so plain-word questions match them; the whole identifier stays indexed too.
    /// </summary>
    private static string WithCompoundParts(string text)
    {
        var parts = new StringBuilder();
        foreach (Match match in CompoundWord().Matches(text))
        {
            parts.Append(' ').Append(CompoundBoundary().Replace(match.Value, " "));
        }

        return parts.Length == 0 ? text : string.Concat(text, "\n", parts.ToString());
    }

    private static CharArraySet BuildStopWords()
    {
        var words = new CharArraySet(Version, StopAnalyzer.ENGLISH_STOP_WORDS_SET, ignoreCase: true);
        foreach (var word in (string[])["what", "which", "who", "whom", "when", "where", "why", "how", "do", "does", "did",
            "doing", "i", "me", "my", "we", "our", "us", "you", "your", "should", "can", "could", "would", "shall", "must",
            "has", "have", "had", "am", "been", "being", "were", "about", "so", "some", "any", "please", "tell", "mean",
            "means", "meaning", "happens", "happen", "from", "than", "its"])
        {
            words.Add(word);
        }

        return words.AsReadOnly();
    }

    // A word with an underscore or colon inside, or a lower-to-upper case change (camelCase/PascalCase).
    [GeneratedRegex(@"\b(?:[A-Za-z0-9]+[_:][A-Za-z0-9_:]+|[A-Za-z0-9]*[a-z0-9][A-Z][A-Za-z0-9]*)\b")]
    private static partial Regex CompoundWord();

    [GeneratedRegex(@"[_:]+|(?<=[a-z0-9])(?=[A-Z])")]
    private static partial Regex CompoundBoundary();
}
