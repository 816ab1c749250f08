using System.Net;
using System.Text;
using RagFunctions.Core.Generation.Bedrock;

using RagFunctions.Core.Generation;
using RagFunctions.Core.Metrics;

namespace RagFunctions.UnitTests.Bedrock;

public sealed class BedrockErrorsTests
{
    [Fact]
    public async Task TakesErrorTypeFromHeaderBeforeTheColon()
    {
        using var response = Response(HttpStatusCode.TooManyRequests, """{"message":"slow down"}""");
        response.Headers.TryAddWithoutValidation("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/");

        var error = await BedrockErrors.ClassifyAsync(response, CancellationToken.None);

        Assert.Equal(("ThrottlingException", LlmErrorKind.Throttling, "slow down"), (error.AwsErrorType, error.Kind, error.Message));
    }

    [Fact]
    public async Task FallsBackToBodyTypeAfterTheHash()
    {
        using var response = Response(HttpStatusCode.NotFound, """{"__type":"com.amazon.bedrock#ResourceNotFoundException","Message":"Model not found"}""");

        var error = await BedrockErrors.ClassifyAsync(response, CancellationToken.None);

        Assert.Equal(("ResourceNotFoundException", LlmErrorKind.NotFound, "Model not found"), (error.AwsErrorType, error.Kind, error.Message));
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, LlmErrorKind.Throttling)]
    [InlineData(HttpStatusCode.ServiceUnavailable, LlmErrorKind.Unavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout, LlmErrorKind.Timeout)]
    [InlineData(HttpStatusCode.Forbidden, LlmErrorKind.AccessDenied)]
    [InlineData(HttpStatusCode.Conflict, LlmErrorKind.Other)]
    public async Task FallsBackToStatusWhenNoErrorTypeIsGiven(HttpStatusCode status, LlmErrorKind expected)
    {
        using var response = Response(status, "<html>proxy error</html>");

        var error = await BedrockErrors.ClassifyAsync(response, CancellationToken.None);

        Assert.Null(error.AwsErrorType);
        Assert.Equal(expected, error.Kind);
    }

    [Theory]
    [InlineData(LlmErrorKind.Throttling, "throttling", true)]
    [InlineData(LlmErrorKind.ModelNotReady, "model_not_ready", true)]
    [InlineData(LlmErrorKind.Network, "network", true)]
    [InlineData(LlmErrorKind.Validation, "validation", false)]
    [InlineData(LlmErrorKind.AccessDenied, "access_denied", false)]
    [InlineData(LlmErrorKind.Other, "other", false)]
    public void KindGivesMetricLabelAndTransience(LlmErrorKind kind, string label, bool transient)
    {
        Assert.Equal((label, transient), (kind.LabelValue(), kind.IsTransient()));
    }

    private static HttpResponseMessage Response(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
}
