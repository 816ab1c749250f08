using System.Globalization;
using System.Net;
using System.Text.Json;
using RagFunctions.Core.Generation.Bedrock;

namespace RagFunctions.TestHost;

/// <summary>
/// <c>bedrock-standin</c>: the Bedrock Converse stand-in as a local process, for <c>scripts/dev up --priced</c>. It checks
/// each request's SigV4 signature against the credentials in its environment (the simulated ones scripts/dev gives the
/// app too) and answers every Converse call with a text that says it is simulated, and made-up token usage: input ≈ the
/// prompt's characters / 4, output <see cref="OutputTokens"/> (or the request's maxTokens when smaller). The app prices that
/// usage at the configured model's real prices, so the cost panels and budgets move; no model is called, nothing is billed.
/// </summary>
internal static class SimulatedBedrock
{
    public const string Usage = """
        usage: RagFunctions.TestHost bedrock-standin --port N
          Serves a SIMULATED Bedrock Converse API on 127.0.0.1:N until SIGTERM/Ctrl+C (scripts/dev up --priced starts it).
          Requests must be SigV4-signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from this process's environment.
          Each answer is labelled SIMULATED; usage: input tokens = prompt characters / 4, output tokens = 256 (or maxTokens).
        """;

    /// <summary>Output tokens reported per answer, so a priced model's output price shows in the cost.</summary>
    public const int OutputTokens = 256;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        if (args is not ["--port", var portText] || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        var accessKey = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
        var secretKey = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
        if (string.IsNullOrEmpty(accessKey) || string.IsNullOrEmpty(secretKey))
        {
            await Console.Error.WriteLineAsync("bedrock-standin: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the simulated credentials the app signs with)\n" + Usage);
            return 2;
        }

        using var stopping = new StopSignal();

        await using var standIn = await BedrockStandIn.StartAsync(
            Answer, new IPEndPoint(IPAddress.Loopback, port), new AwsSigningCredentials(accessKey, secretKey), keepReceived: false);
        Console.WriteLine($"bedrock-standin: SIMULATED Bedrock Converse on {standIn.BaseUri} (no model is called, nothing is billed); SIGTERM or Ctrl+C stops");
        try
        {
            await Task.Delay(Timeout.Infinite, stopping.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopped by a signal.
        }

        Console.WriteLine("bedrock-standin: stopped");
        return 0;
    }

    /// <summary>A Converse answer for <paramref name="request"/>: labelled simulated, with usage derived from the prompt.</summary>
    public static CannedResponse Answer(ReceivedRequest request)
    {
        // The target is /model/{url-encoded model id}/converse.
        var segments = request.RawTarget.Split('?', 2)[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        var model = segments is ["model", var id, "converse"] ? Uri.UnescapeDataString(id) : "(unknown model)";
        long promptCharacters = 0;
        int? maxTokens = null;
        try
        {
            using var body = JsonDocument.Parse(request.Body);
            promptCharacters = TextLength(body.RootElement);
            if (body.RootElement.TryGetProperty("inferenceConfig", out var config) && config.TryGetProperty("maxTokens", out var max) && max.TryGetInt32(out var m))
            {
                maxTokens = m;
            }
        }
        catch (JsonException)
        {
            return new CannedResponse(400, """{"message":"Malformed input request, please reformat your input and try again."}""",
                new Dictionary<string, string> { ["x-amzn-ErrorType"] = "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/" });
        }

        var input = Math.Max(1, (promptCharacters + 3) / 4);
        var output = Math.Min(OutputTokens, maxTokens ?? OutputTokens);
        var text = $"[SIMULATED] The local Bedrock stand-in answered instead of {model}: no model was called and nothing was billed. " +
                   $"This call is priced as {input} input and {output} output tokens at {model}'s configured prices.";
        var json = JsonSerializer.Serialize(new
        {
            output = new { message = new { role = "assistant", content = new[] { new { text } } } },
            stopReason = "end_turn",
            usage = new { inputTokens = input, outputTokens = output, totalTokens = input + output },
            metrics = new { latencyMs = 1 },
        });
        return new CannedResponse(200, json);
    }

    /// <summary>The characters of every <c>text</c> string in the request (system and messages).</summary>
    private static long TextLength(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Sum(p =>
            p.NameEquals("text") && p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()!.Length : TextLength(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().Sum(TextLength),
        _ => 0,
    };
}
