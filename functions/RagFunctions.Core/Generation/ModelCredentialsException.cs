namespace RagFunctions.Core.Generation;

/// <summary>
/// The provider has no usable credentials, so no model call was made. It is a deployment problem, not a model
/// rejection: <see cref="Detail"/> names the settings that supply credentials and where they were looked for.
/// </summary>
public sealed class ModelCredentialsException(string detail, Exception? inner = null) : Exception(detail, inner)
{
    public string Detail { get; } = detail;
}
