using System.Text;
using System.Text.Json;
using RagFunctions.Core.Input;

namespace RagFunctions.UnitTests.Input;

public sealed class InputErrorsTests
{
    private static InvalidRequestException Read(string json)
    {
        using var document = StrictJson.Parse(Encoding.UTF8.GetBytes(json), "request body");
        var errors = new InputErrors();
        JsonObjectReader.Open(document.RootElement, "request body", errors, "question", "domain");
        return Assert.Throws<InvalidRequestException>(errors.ThrowIfAny);
    }

    [Fact]
    public void ThousandsOfUnknownMembersListAtMostMaxMessagesAndCountTheRest()
    {
        var rejected = Read("{" + string.Join(',', Enumerable.Range(0, 3_000).Select(i => $"\"x{i}\":1")) + "}");

        Assert.Equal(InputErrors.MaxMessages, rejected.Errors.Values.Sum(messages => messages.Length));
        Assert.True(Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(rejected.Errors)) < 4 * 1024);
        Assert.True(Encoding.UTF8.GetByteCount(rejected.Detail) < InputErrors.MaxDetailBytes);
        Assert.EndsWith($"{3_000 - rejected.Detail.Split("Unknown property").Length + 1} more problems; 'errors' lists the first {InputErrors.MaxMessages}.)", rejected.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AMemberRepeatedThousandsOfTimesListsAtMostMaxMessages()
    {
        var rejected = Read("{" + string.Join(',', Enumerable.Repeat("\"question\":\"q\"", 3_000)) + "}");

        Assert.Equal(["question"], rejected.Errors.Keys);
        Assert.Equal(InputErrors.MaxMessages, rejected.Errors["question"].Length);
        Assert.Contains("'errors' lists the first", rejected.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AFewProblemsAreAllListedAndTheDetailPointsToErrors()
    {
        var rejected = Read("{" + string.Join(',', Enumerable.Range(0, 15).Select(i => $"\"x{i}\":1")) + "}");

        Assert.Equal(15, rejected.Errors["$"].Length);
        Assert.DoesNotContain("lists the first", rejected.Detail, StringComparison.Ordinal);
        Assert.EndsWith("in 'errors'.)", rejected.Detail, StringComparison.Ordinal);
    }
}
