using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Generation.Extractive;
using RagFunctions.Core.Retrieval;
using RagFunctions.Tests.Shared;
using RagFunctions.UnitTests.Retrieval;

namespace RagFunctions.UnitTests.Extractive;

public sealed partial class ExtractiveAnswerGeneratorTests(ShippedCorpus corpus) : IClassFixture<ShippedCorpus>
{
    private static readonly Tokenizer O200k = TiktokenTokenizer.CreateForEncoding("o200k_base");

    private static readonly RetrievedPassage[] Passages =
    [
        new("doc-a#fix", "Doc A — Fix", "runbooks", "Restart the ledger deployment. Check the pushgateway is reachable.\n- Scale the batch workers to zero when the budget is exceeded.", 3f),
        new("doc-b", "Doc B", "operations", "Unrelated text about zebras. The daily budget resets at midnight UTC.\n```\nrag:spend_today_dollars\n```", 2f),
    ];

    [Fact]
    public void PromptBuilderProducesSystemThenUserWithOneContentPerPassageThenQuestion()
    {
        var messages = PromptBuilder.Build("why?", Passages);

        Assert.Equal([ChatRole.System, ChatRole.User], messages.Select(m => m.Role));
        Assert.Equal(PromptBuilder.SystemInstructions, messages[0].Text);
        var contents = messages[1].Contents.Cast<TextContent>().ToList();
        Assert.Equal(3, contents.Count);
        Assert.Equal("[1] Doc A — Fix\n" + Passages[0].Text, contents[0].Text);
        Assert.Equal("doc-a#fix", contents[0].AdditionalProperties![PromptBuilder.PassageIdProperty]);
        Assert.Equal("[2] Doc B\n" + Passages[1].Text, contents[1].Text);
        Assert.Equal("doc-b", contents[1].AdditionalProperties![PromptBuilder.PassageIdProperty]);
        Assert.Equal("Question: why?", contents[2].Text);
        Assert.Null(contents[2].AdditionalProperties);
    }

    [Fact]
    public async Task AnswersWithBestSentencesCitingTheirPassages()
    {
        var generator = new ExtractiveAnswerGenerator();

        var answer = await generator.GenerateAsync("What happens to the daily budget at midnight?", Passages, CancellationToken.None);

        Assert.StartsWith("The daily budget resets at midnight UTC. [2]", answer.Text, StringComparison.Ordinal);
        Assert.InRange(Citation().Matches(answer.Text).Count, 2, 4);
        Assert.Equal(ExtractiveAnswerGenerator.Model, answer.ModelId);
    }

    [Fact]
    public async Task CitesOnlyPassagesThatExist()
    {
        var generator = new ExtractiveAnswerGenerator();

        var answer = await generator.GenerateAsync("restart ledger pushgateway budget workers", Passages, CancellationToken.None);

        var cited = Citation().Matches(answer.Text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(cited);
        Assert.All(cited, n => Assert.InRange(n, 1, Passages.Length));
        Assert.Contains("Restart the ledger deployment. [1]", answer.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportsRealO200kTokenCountsOfThePromptAModelWouldGet()
    {
        const string question = "What happens to the daily budget at midnight?";
        var generator = new ExtractiveAnswerGenerator();

        var answer = await generator.GenerateAsync(question, Passages, CancellationToken.None);

        // The prompt Bedrock would be sent for the same question and passages.
        var messages = PromptBuilder.Build(question, Passages);
        var expectedInput = messages.SelectMany(m => m.Contents).OfType<TextContent>().Sum(c => O200k.CountTokens(c.Text));
        var expectedOutput = O200k.CountTokens(answer.Text);
        Assert.Equal(expectedInput, answer.Usage.Input);
        Assert.Equal(expectedOutput, answer.Usage.Output);
        Assert.Equal(expectedInput + expectedOutput, answer.Usage.Total);
        Assert.True(expectedInput > 100, "the system prompt and passages are well over 100 tokens");
    }

    [Fact]
    public async Task SaysItCannotFindTheAnswerGivenNoPassages()
    {
        var generator = new ExtractiveAnswerGenerator();

        var answer = await generator.GenerateAsync("how do I bake bread?", [], CancellationToken.None);

        Assert.Equal(ExtractiveAnswerGenerator.NoContextAnswer, answer.Text);
        Assert.Equal(O200k.CountTokens(ExtractiveAnswerGenerator.NoContextAnswer), answer.Usage.Output);
        Assert.Equal(O200k.CountTokens(PromptBuilder.SystemInstructions) + O200k.CountTokens("Question: how do I bake bread?"), answer.Usage.Input);
    }

    [Fact]
    public async Task AnswersTheDailyBudgetQuestionFromTheShippedRunbook()
    {
        const string question = "what do I do when the daily budget alert fires?";
        var generator = new ExtractiveAnswerGenerator();
        var passages = corpus.Retriever.Retrieve(question, null, 4).Passages;

        var answer = await generator.GenerateAsync(question, passages, CancellationToken.None);

        Assert.Contains("[1]", answer.Text, StringComparison.Ordinal);
        Assert.Contains("daily budget", answer.Text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(ExtractiveAnswerGenerator.NoContextAnswer, answer.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IsDeterministic()
    {
        var generator = new ExtractiveAnswerGenerator();

        var first = await generator.GenerateAsync("budget pushgateway", Passages, CancellationToken.None);
        var second = await generator.GenerateAsync("budget pushgateway", Passages, CancellationToken.None);

        Assert.Equal(first.Text, second.Text);
        Assert.Equal(first.Usage, second.Usage);
    }

    [Fact]
    public async Task AnyChatClientAnswersThroughTheAdapterWithItsUsageRead()
    {
        var generator = new ChatClientAnswerGenerator(new FakeModel("acme.model-v1:0", "It resets at midnight [1].", input: 40, output: 9, cacheRead: 7, cacheWrite: 3));

        var answer = await generator.GenerateAsync("When does the budget reset?", Passages, CancellationToken.None);

        Assert.Equal("acme.model-v1:0", generator.ModelId);
        Assert.Equal("It resets at midnight [1].", answer.Text);
        Assert.Equal(new TokenUsage(40, 9, 7, 3), answer.Usage);
        Assert.Equal("acme.model-v1:0", answer.ModelId);
    }

    [Fact]
    public void AChatClientWithoutAModelIdIsRefusedAtComposition()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ChatClientAnswerGenerator(new FakeModel(null, "answer", 1, 1)));

        Assert.Contains("DefaultModelId", error.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\[(\d+)\]")]
    private static partial Regex Citation();
}
