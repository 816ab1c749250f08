using System.Text;
using CsCheck;
using RagFunctions.Core.Input;

namespace RagFunctions.UnitTests.Input;

public sealed class UserTextTests
{
    [Fact]
    public void LongInputIsQuotedAs64CharactersWithItsLength() =>
        Assert.Equal($"\"{new string('a', 64)}…\" (10000 characters)", UserText.Quote(new string('a', 10_000)));

    [Fact]
    public void InvisibleQuotesAndControlsAreEscaped() =>
        Assert.Equal(@"""a\u200B\""\\\u0085\uD800""", UserText.Quote("a\u200B\"\\\u0085\uD800"));

    [Fact]
    public void AnyQuoteShowsAtMost64CharactersAndNoRawInvisibleOrControlCharacter() =>
        Gen.Char.Array[0, 300].Select(c => new string(c)).Sample(text =>
        {
            var quoted = UserText.Quote(text);
            var body = quoted[1..quoted.LastIndexOf('"')];
            Assert.True(body.Length <= 64 * 11, quoted);
            Assert.DoesNotContain(quoted.EnumerateRunes(), r => Rune.IsControl(r) || r.Value is 0x200B or 0xFEFF or 0x2028);
        }, iter: 1_000);

    [Fact]
    public void BoundCutsToTheByteLimitOnACharacterBoundary()
    {
        var text = string.Concat(Enumerable.Repeat("\U0001F600", 1_000));

        var bounded = UserText.Bound(text, 1_000);

        Assert.True(Encoding.UTF8.GetByteCount(bounded) <= 1_000);
        Assert.EndsWith("\U0001F600…", bounded, StringComparison.Ordinal);
    }
}
