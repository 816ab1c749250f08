using System.Text;
using RagFunctions.Core.Generation.Bedrock;

namespace RagFunctions.UnitTests.Bedrock;

public sealed class SigV4SignerTests
{
    private static readonly AwsSigningCredentials SuiteCredentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    private static readonly DateTimeOffset SuiteDate = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);
    private static readonly string VectorsDir = Path.Combine(AppContext.BaseDirectory, "Bedrock", "Vectors");

    private static readonly string[] VectorNames =
    [
        "get-vanilla", "post-vanilla", "get-vanilla-query-order-key-case", "get-vanilla-query-order-key",
        "get-vanilla-query-order-value", "get-vanilla-empty-query-key", "get-vanilla-query-unreserved",
        "get-vanilla-utf8-query", "get-unreserved", "get-utf8", "get-space", "get-header-key-duplicate",
        "get-header-value-order", "get-header-value-trim", "post-header-key-case", "post-header-key-sort",
        "post-header-value-case", "post-vanilla-query", "post-vanilla-empty-query-value",
        "post-x-www-form-urlencoded", "post-x-www-form-urlencoded-parameters", "post-sts-header-before",
    ];

    public static TheoryData<string> Vectors() => new(VectorNames);

    [Theory]
    [MemberData(nameof(Vectors))]
    public void ReproducesCanonicalRequestStringToSignAndAuthorizationOfSuiteVector(string name)
    {
        var (request, credentials) = ParseSuiteRequest(Read(name, "req"));

        var signature = SigV4Signer.Sign(request, credentials, "us-east-1", "service", SuiteDate);

        Assert.Equal(Read(name, "creq"), signature.CanonicalRequest);
        Assert.Equal(Read(name, "sts"), signature.StringToSign);
        Assert.Equal(Read(name, "authz"), signature.Authorization);
    }

    [Fact]
    public void VectorFolderHoldsExactlyTheVectorsUnderTest()
    {
        var onDisk = Directory.GetDirectories(VectorsDir).Select(Path.GetFileName).Order(StringComparer.Ordinal);

        Assert.Equal(VectorNames.Order(StringComparer.Ordinal), onDisk);
    }

    [Fact]
    public void EncodesTheAlreadyEncodedBedrockModelPathAgainInTheCanonicalRequest()
    {
        var request = new SigV4Request(
            "POST",
            "/model/amazon.nova-lite-v1%3A0/converse",
            [],
            [new("host", "bedrock-runtime.us-east-1.amazonaws.com")],
            SigV4Signer.EmptyPayloadHash);

        var signature = SigV4Signer.Sign(request, SuiteCredentials, "us-east-1", "bedrock", SuiteDate);

        Assert.StartsWith("POST\n/model/amazon.nova-lite-v1%253A0/converse\n\n", signature.CanonicalRequest, StringComparison.Ordinal);
        Assert.Contains("Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request", signature.Authorization, StringComparison.Ordinal);
    }

    [Fact]
    public void SignatureChangesWithTheSigningTime()
    {
        var request = new SigV4Request("POST", "/", [], [new("host", "example.amazonaws.com")], SigV4Signer.EmptyPayloadHash);

        var first = SigV4Signer.Sign(request, SuiteCredentials, "us-east-1", "service", SuiteDate);
        var second = SigV4Signer.Sign(request, SuiteCredentials, "us-east-1", "service", SuiteDate.AddSeconds(1));

        Assert.Equal("20150830T123601Z", second.AmzDate);
        Assert.NotEqual(first.Signature, second.Signature);
    }

    private static string Read(string name, string extension) =>
        File.ReadAllText(Path.Combine(VectorsDir, name, $"{name}.{extension}"), Encoding.UTF8);

    /// <summary>Parses a suite .req file: request line, header lines, blank line, body.</summary>
    private static (SigV4Request Request, AwsSigningCredentials Credentials) ParseSuiteRequest(string text)
    {
        var split = text.IndexOf("\n\n", StringComparison.Ordinal);
        var head = split < 0 ? text : text[..split];
        var body = split < 0 ? string.Empty : text[(split + 2)..];
        var lines = head.Split('\n');

        // The target may contain spaces (get-space): it runs from the first space to " HTTP/1.1".
        var requestLine = lines[0];
        var method = requestLine[..requestLine.IndexOf(' ', StringComparison.Ordinal)];
        var target = requestLine[(method.Length + 1)..requestLine.LastIndexOf(" HTTP/", StringComparison.Ordinal)];
        var question = target.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? target : target[..question];
        var query = question < 0 ? string.Empty : target[(question + 1)..];

        var headers = new List<KeyValuePair<string, string>>();
        var credentials = SuiteCredentials;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var headerName = line[..colon];
            var value = line[(colon + 1)..];
            if (headerName.Equals("X-Amz-Date", StringComparison.OrdinalIgnoreCase))
            {
                // The signer writes x-amz-date from the signing time; the suite's value must be that time.
                Assert.Equal("20150830T123600Z", value.Trim());
            }
            else if (headerName.Equals("X-Amz-Security-Token", StringComparison.OrdinalIgnoreCase))
            {
                credentials = credentials with { SessionToken = value.Trim() };
            }
            else
            {
                headers.Add(new(headerName, value));
            }
        }

        var request = new SigV4Request(method, path, SigV4Signer.ParseQuery(query), headers, SigV4Signer.HashHex(Encoding.UTF8.GetBytes(body)));
        return (request, credentials);
    }
}
