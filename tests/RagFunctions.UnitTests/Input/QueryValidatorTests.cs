using System.Globalization;
using System.Text;
using CsCheck;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Input;
using RagFunctions.Core.Options;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.UnitTests.Input;

public sealed class QueryValidatorTests
{
    private static readonly QueryValidator Validator = new(Options.Create(new RagOptions { MaxQuestionChars = 4_000 }));

    private static InvalidRequestException Rejects(string? question) =>
        Assert.Throws<InvalidRequestException>(() => Validator.Validate(question, null));

    [Theory]
    [InlineData("\u200B")]
    [InlineData("\u200D\u200C")]
    [InlineData("\u2060\u2060")]
    [InlineData("\uFEFF")]
    [InlineData(" \u200B \u00A0 \u2028\u2029\u3000")]
    [InlineData("\t\r\n\u00AD")]
    public void QuestionOfOnlyInvisibleCharactersIsRejected(string question)
    {
        var rejected = Rejects(question);

        Assert.Equal(["question"], rejected.Errors.Keys);
        Assert.Matches("no visible character|is required", rejected.Detail);
    }

    [Theory]
    [InlineData('\u0000')]
    [InlineData('\u001F')]
    [InlineData('\u007F')]
    [InlineData('\u0080')]
    [InlineData('\u0085')]
    [InlineData('\u009F')]
    public void C0AndC1ControlsAreRejectedWithTheirCodePoint(char control)
    {
        var rejected = Rejects($"pushgateway{control}down");

        Assert.Contains($"U+{(int)control:X4} at character 12", rejected.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TabCarriageReturnAndLineFeedAreAllowed() =>
        Assert.Equal("pushgateway\tdown\r\nwhy?", Validator.Validate("pushgateway\tdown\r\nwhy?", null).Question);

    [Fact]
    public void QuestionIsNormalizedToNfc()
    {
        var (question, _) = Validator.Validate("Cafe\u0301 down?", null);

        Assert.Equal("Caf\u00E9 down?", question);
        Assert.True(question.IsNormalized(NormalizationForm.FormC));
    }

    [Fact]
    public void LengthIsCountedInUnicodeScalarValues()
    {
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 4_000));
        Assert.Equal(emoji, Validator.Validate(emoji, null).Question);
        Assert.Equal(8_000, emoji.Length);

        var letters = new string('q', 3_999) + "\U0001F600";
        Assert.Equal(letters, Validator.Validate(letters, null).Question);

        Assert.Contains("has 4001 characters (Unicode scalar values); the limit is 4000", Rejects(emoji + "q").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void UnpairedSurrogateIsRejected() =>
        Assert.Contains("unpaired surrogate U+D800", Rejects("why\uD800?").Detail, StringComparison.Ordinal);

    [Fact]
    public void AnyStringIsEitherAValidQuestionOrRejectedWithABoundedReasonOnTheQuestionField()
    {
        var awkward = Gen.Char["\u200B\u200D\u2060\uFEFF \t\r\n\u0000\u0085\u009F\u00A0\u2028e\u0301\uD800\uDC00aZ?"].Array[0, 30].Select(c => new string(c));
        Gen.Frequency((1, Gen.Char.Array[0, 50].Select(c => new string(c))), (1, awkward)).Sample(text =>
        {
            try
            {
                var (question, _) = Validator.Validate(text, null);
                Assert.True(question.IsNormalized(NormalizationForm.FormC));
                Assert.Equal(question.Trim(), question);
                Assert.Contains(question.EnumerateRunes(), r => Rune.GetUnicodeCategory(r) is not (UnicodeCategory.Format or UnicodeCategory.Control
                    or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator));
                Assert.DoesNotContain(question.EnumerateRunes(), r => Rune.IsControl(r) && r.Value is not ('\t' or '\r' or '\n'));
            }
            catch (InvalidRequestException rejected)
            {
                Assert.Equal(["question"], rejected.Errors.Keys);
                Assert.True(Encoding.UTF8.GetByteCount(rejected.Detail) < 1024);
            }
        }, iter: 2_000);
    }
}
