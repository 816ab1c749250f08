using System.ComponentModel.DataAnnotations;

namespace RagFunctions.Core.Retrieval;

/// <summary>Retrieval settings, bound from the "Rag" section (Rag:CorpusPath, Rag:TopK).</summary>
public sealed class RetrievalOptions
{
    public const string SectionName = "Rag";

    /// <summary>Folder of the markdown corpus; a relative path is resolved against <see cref="AppContext.BaseDirectory"/>.</summary>
    [Required]
    public string CorpusPath { get; set; } = "corpus";

    /// <summary>Passages handed to the generator per question.</summary>
    [Range(1, 20)]
    public int TopK { get; set; } = 4;

    /// <summary>The absolute corpus folder.</summary>
    public string ResolveCorpusPath() =>
        Path.IsPathRooted(CorpusPath) ? CorpusPath : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, CorpusPath));
}
