using System.Text.Json;
using System.Text.Json.Serialization;
using RagFunctions.Core.Batches;

namespace RagFunctions.App.Http;

/// <summary>Body of POST /api/query.</summary>
public sealed record QueryRequestBody(string? Question, string? Domain);

/// <summary>202 body of POST /api/batches.</summary>
public sealed record BatchAcceptedBody(string BatchId, int Count, string StatusUrl);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, AllowTrailingCommas = false,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(QueryRequestBody))]
[JsonSerializable(typeof(BatchRequest))]
public sealed partial class RequestJsonContext : JsonSerializerContext;
