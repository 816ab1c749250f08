using System.ComponentModel.DataAnnotations;

namespace RagFunctions.Core.Options;

/// <summary>Settings of section <c>Rag</c> that shape requests and labels.</summary>
public sealed class RagOptions
{
    public const string Section = "Rag";

    /// <summary>Value of the <c>environment</c> label on every rag_ series.</summary>
    [Required]
    [RegularExpression("^[a-z0-9][a-z0-9-]{0,30}$", ErrorMessage = "Rag:Environment must be 1-31 lowercase letters, digits or dashes.")]
    public string Environment { get; set; } = "local";

    /// <summary>The allow-list a request's <c>domain</c> must belong to (corpus documents carry one of these tags).</summary>
    [MinLength(1, ErrorMessage = "Rag:Domains must list at least one domain.")]
    public string[] Domains { get; set; } = ["operations", "runbooks", "metrics"];

    /// <summary>Longest question, in characters counted as Unicode scalar values (an emoji is 1, a flag 2), after NFC and trimming.</summary>
    [Range(1, 100_000, ErrorMessage = "Rag:MaxQuestionChars (Unicode scalar values) must be between 1 and 100000.")]
    public int MaxQuestionChars { get; set; } = 4_000;

    [Range(1, 100_000, ErrorMessage = "Rag:MaxBatchQuestions must be between 1 and 100000.")]
    public int MaxBatchQuestions { get; set; } = 1_000;

    [Range(1_024, 64 * 1024 * 1024, ErrorMessage = "Rag:MaxBodyBytes must be between 1 KiB and 64 MiB.")]
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Read the caller's tenant from the <c>X-Rag-Tenant-Key</c> header. Set it only behind an ingress that overwrites
    /// that header (APIM); false (the default): the header is ignored and every caller is <c>default</c>.
    /// </summary>
    public bool TrustTenantHeader { get; set; }
}

/// <summary>Which generator answers (section <c>Rag:Generation</c>); read once, by the composition, to choose what it registers.</summary>
public sealed class GenerationOptions
{
    public const string Section = "Rag:Generation";

    public GenerationProvider Provider { get; set; } = GenerationProvider.Extractive;
}

public enum GenerationProvider
{
    /// <summary>Offline extractive answers from the retrieved passages; needs no cloud account.</summary>
    Extractive,

    /// <summary>Amazon Bedrock Converse API.</summary>
    Bedrock,
}

/// <summary>Queue and tables of the batch path (section <c>Rag:Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string Section = "Rag:Storage";

    /// <summary>The queue the queue-triggered function listens on; the trigger attribute uses the same constant.</summary>
    public const string QueryQueue = "rag-queries";

    /// <summary>Where the Functions host moves a message after maxDequeueCount failures.</summary>
    public const string PoisonQueue = QueryQueue + "-poison";

    /// <summary>Connection string; defaults to the Functions host's own <c>AzureWebJobsStorage</c>.</summary>
    [Required(ErrorMessage = "AzureWebJobsStorage (or Rag:Storage:ConnectionString) must be set.")]
    public string ConnectionString { get; set; } = string.Empty;

    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Rag:Storage:BatchTable must be a valid table name.")]
    public string BatchTable { get; set; } = "ragbatches";

    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Rag:Storage:ResultTable must be a valid table name.")]
    public string ResultTable { get; set; } = "ragresults";

    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$", ErrorMessage = "Rag:Storage:DeadLetterTable must be a valid table name.")]
    public string DeadLetterTable { get; set; } = "ragdeadletters";

    /// <summary>
    /// How long a claim on a result row holds before another delivery may take it over: longer than one question's model
    /// call with its retries (Bedrock: 4 tries of 30 s plus backoff), shorter than the host's lease on a message of a
    /// pod that died (10 minutes), so the redelivery finds it expired.
    /// </summary>
    [Range(1, 3600, ErrorMessage = "Rag:Storage:ClaimLeaseSeconds must be between 1 and 3600.")]
    public int ClaimLeaseSeconds { get; set; } = 300;

    [Range(1, 64, ErrorMessage = "Rag:Storage:EnqueueConcurrency must be between 1 and 64.")]
    public int EnqueueConcurrency { get; set; } = 16;
}
