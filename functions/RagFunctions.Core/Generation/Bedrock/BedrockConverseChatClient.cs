using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.Timeout;


namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>
/// <see cref="IChatClient"/> over Bedrock's Converse API (<c>POST /model/{modelId}/converse</c>), without the
/// Bedrock SDK: the named HttpClient <see cref="HttpClientName"/> carries retries and SigV4 signing.
/// Failures surface as <see cref="BedrockException"/> once retries are exhausted.
/// Streaming is served by the non-streaming call, yielded as one complete update.
/// </summary>
public sealed class BedrockConverseChatClient : IChatClient
{
    public const string HttpClientName = "RagFunctions.Bedrock";

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly BedrockOptions _options;
    private readonly ILogger _logger;

    public BedrockConverseChatClient(
        IHttpClientFactory httpClientFactory,
        IOptions<BedrockOptions> options,
        ILogger<BedrockConverseChatClient> logger)
    {
        _httpClientFactory = httpClientFactory;
        _options = options.Value;
        _logger = logger;
        Metadata = new ChatClientMetadata("aws.bedrock", _options.Region is null && _options.Endpoint is null ? null : _options.ResolveEndpoint(), _options.ModelId);
    }

    public ChatClientMetadata Metadata { get; }

    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var modelId = options?.ModelId ?? _options.ModelId
            ?? throw new InvalidOperationException($"{BedrockOptions.SectionName}:ModelId is not configured.");

        try
        {
            return await SendAsync(modelId, ConverseMapping.ToRequest(messages, options, _options), cancellationToken);
        }
        catch (BedrockException ex)
        {
            Log.BedrockCallFailed(_logger, ex, modelId, ex.ErrorKind, ex.StatusCode, ex.AwsErrorType);
            throw;
        }
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // ConverseStream (event-stream framing) is out of scope: one call, one complete update.
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
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
        // HttpClients come from the factory; nothing owned here.
    }

    internal Uri ConverseUri(string modelId)
    {
        var baseUri = _options.ResolveEndpoint();
        var basePath = baseUri.AbsolutePath.TrimEnd('/');
        // The model id is one path segment: ':' travels as %3A (and is signed as %253A).
        return new Uri(baseUri, $"{basePath}/model/{Uri.EscapeDataString(modelId)}/converse");
    }

    private async Task<ChatResponse> SendAsync(string modelId, ConverseRequest converseRequest, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(converseRequest, BedrockJsonContext.Default.ConverseRequest);
        using var content = new ByteArrayContent(payload);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, ConverseUri(modelId)) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        var client = _httpClientFactory.CreateClient(HttpClientName);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new BedrockException(LlmErrorKind.Network, $"Bedrock could not be reached: {ex.Message}", ex);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new BedrockException(LlmErrorKind.Timeout, $"Bedrock did not answer within {_options.TimeoutSeconds} s.", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BedrockException(LlmErrorKind.Timeout, "The Bedrock request timed out.", ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var error = await BedrockErrors.ClassifyAsync(response, cancellationToken);
                throw error.ToException();
            }

            ConverseResponse? converseResponse;
            try
            {
                converseResponse = await response.Content.ReadFromJsonAsync(BedrockJsonContext.Default.ConverseResponse, cancellationToken);
            }
            catch (JsonException ex)
            {
                throw new BedrockException(LlmErrorKind.Other, "Bedrock returned a Converse response that is not valid JSON.", ex, (int)response.StatusCode);
            }

            return ConverseMapping.ToChatResponse(
                converseResponse ?? throw new BedrockException(LlmErrorKind.Other, "Bedrock returned an empty Converse response.", statusCode: (int)response.StatusCode),
                modelId);
        }
    }
}
