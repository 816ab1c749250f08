using System.Net;
using System.Text;
using RagFunctions.Core.Generation.Bedrock;

namespace RagFunctions.UnitTests.Bedrock;

public sealed class BedrockErrorsTests
{
    [Fact]
    public async Task TakesErrorTypeFromHeaderBeforeTheColon()
    {
        using var response = Response(HttpStatusCode.TooManyRequests, """{"message":"slow down"}""");
        response.Headers.TryAddWithoutValidation("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/");

        var error = await BedrockErrors.ClassifyAsync(response, CancellationToken.None);

        Assert.Equal(("ThrottlingException", BedrockErrorKind.Throttling, "slow down"), (error.AwsErrorType, error.Kind, error.Message));
    }

    [Fact]
    public async Task FallsBackToBodyTypeAfterTheHash()
    {
        using var response = Response(HttpStatusCode.NotFound, """{"__type":"com.amazon.bedrock#ResourceNotFoundException","Message":"Model not found"}""");

        var error = await BedrockErrors.ClassifyAsync(response, CancellationToken.None);

        Assert.Equal(("ResourceNotFoundException", BedrockErrorKind.NotFound, "Model not found"), (error.AwsErrorType, error.Kind, error.Message));
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, BedrockErrorKind.Throttling)]
    [InlineData(HttpStatusCode.ServiceUnavailable, BedrockErrorKind.Unavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout, BedrockErrorKind.Timeout)]
    [InlineData(HttpStatusCode.Forbidden, BedrockErrorKind.AccessDenied)]
    [InlineData(HttpStatusCode.Conflict, BedrockErrorKind.Other)]
    public async Task FallsBackToStatusWhenNoErrorTypeIsGiven(HttpStatusCode status, BedrockErrorKind expected)
    {
        using var response = Response(status, "<html>proxy error</html>");

        var error = await BedrockErrors.ClassifyAsync(response, CancellationToken.None);

        Assert.Null(error.AwsErrorType);
        Assert.Equal(expected, error.Kind);
    }

    [Theory]
    [InlineData(BedrockErrorKind.Throttling, "throttling", true)]
    [InlineData(BedrockErrorKind.ModelNotReady, "model_not_ready", true)]
    [InlineData(BedrockErrorKind.Network, "network", true)]
    [InlineData(BedrockErrorKind.Validation, "validation", false)]
    [InlineData(BedrockErrorKind.AccessDenied, "access_denied", false)]
    [InlineData(BedrockErrorKind.Other, "other", false)]
    public void KindGivesMetricLabelAndTransience(BedrockErrorKind kind, string label, bool transient)
    {
        Assert.Equal((label, transient), (kind.ToMetricLabel(), kind.IsTransient()));
    }

    private static HttpResponseMessage Response(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
}
