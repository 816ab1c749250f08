using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Rules;

public sealed class RulesTemplateTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("rag-template-");

    [Fact]
    public void ReplacesEveryPlaceholderWithItsValue()
    {
        var rendered = RulesTemplate.Render(Write("a: ${environment} b: ${daily_budget_usd} c: ${environment}"), RulesUnderTest.Values);

        Assert.Equal("a: test b: 100 c: test", rendered);
    }

    [Fact]
    public void ThrowsGivenAnUnknownPlaceholder()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RulesTemplate.Render(Write("x: ${budget}"), RulesUnderTest.Values));

        Assert.Contains("unknown placeholder ${budget}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThrowsGivenAPlaceholderWithoutAValue()
    {
        var values = new Dictionary<string, string> { ["environment"] = "dev" };

        var error = Assert.Throws<InvalidOperationException>(() => RulesTemplate.Render(Write("x: ${burn_rate_hours}"), values));

        Assert.Contains("no value", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x: ${ environment }")]
    [InlineData("summary: \"${{ $value }}\"")]
    public void ThrowsGivenDollarBraceLeftAfterRendering(string template)
    {
        var error = Assert.Throws<InvalidOperationException>(() => RulesTemplate.Render(Write(template), RulesUnderTest.Values));

        Assert.Contains("still contains '${'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThrowsGivenATerraformDirective()
    {
        Assert.Throws<InvalidOperationException>(() => RulesTemplate.Render(Write("%{ if true }x%{ endif }"), RulesUnderTest.Values));
    }

    [Fact]
    public void RulesFileRendersWithExactlyTheContractPlaceholders()
    {
        var template = File.ReadAllText(RulesUnderTest.TemplatePath);

        var used = System.Text.RegularExpressions.Regex.Matches(template, @"\$\{([a-z_]+)\}").Select(m => m.Groups[1].Value).ToHashSet();

        Assert.Equal(RulesTemplate.Placeholders.Order(), used.Order());
        Assert.DoesNotContain("${", RulesUnderTest.Render(), StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Delete(recursive: true);

    private string Write(string content)
    {
        var path = Path.Combine(_folder.FullName, $"{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, content);
        return path;
    }
}
