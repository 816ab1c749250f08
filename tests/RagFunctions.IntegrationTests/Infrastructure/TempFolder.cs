namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>Clean-up of the temp folders the fixtures create.</summary>
internal static class TempFolder
{
    /// <summary>Deletes <paramref name="path"/> recursively, best effort: a temp folder left behind is harmless.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
    }
}
