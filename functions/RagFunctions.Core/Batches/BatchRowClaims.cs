using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Options;

namespace RagFunctions.Core.Batches;

/// <summary>
/// Claims on result rows, taken before the model is called so that a question is answered once however often its
/// message is delivered at the same time. A claim is a row inserted if absent (PartitionKey = batch id, RowKey = the
/// result's row key); it expires after <see cref="StorageOptions.ClaimLeaseSeconds"/>, so a delivery after its owner
/// died takes it over, with an ETag-conditional replace that only one taker wins.
/// </summary>
public sealed class BatchRowClaims(BatchStore store, IOptions<StorageOptions> options, TimeProvider time)
{
    private readonly TimeSpan _lease = TimeSpan.FromSeconds(options.Value.ClaimLeaseSeconds);

    /// <summary>The claim, or null while another owner's claim is live (or was just released: the caller looks again).</summary>
    public async Task<ClaimEntity?> TryClaimAsync(string batchId, int index, CancellationToken cancellationToken)
    {
        var rowKey = ResultEntity.RowKeyOf(index);
        var now = time.GetUtcNow();
        var claim = new ClaimEntity { PartitionKey = batchId, RowKey = rowKey, Owner = Guid.NewGuid().ToString("N"), ExpiresAt = now + _lease };
        try
        {
            var added = await store.Claims.AddEntityAsync(claim, cancellationToken);
            claim.ETag = added.Headers.ETag ?? ETag.All;
            return claim;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Claimed already: taken over below only if its owner let it expire.
        }

        var existing = await store.Claims.GetEntityIfExistsAsync<ClaimEntity>(batchId, rowKey, cancellationToken: cancellationToken);
        if (!existing.HasValue || existing.Value is not { } held || held.ExpiresAt > now)
        {
            return null;
        }

        try
        {
            var replaced = await store.Claims.UpdateEntityAsync(claim, held.ETag, TableUpdateMode.Replace, cancellationToken);
            claim.ETag = replaced.Headers.ETag ?? ETag.All;
            return claim;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return null;
        }
    }

    /// <summary>Deletes the claim if it is still this owner's; never fails the caller (an expired claim is harmless).</summary>
    public async Task ReleaseAsync(ClaimEntity claim)
    {
        try
        {
            await store.Claims.DeleteEntityAsync(claim.PartitionKey, claim.RowKey, claim.ETag, CancellationToken.None);
        }
        catch (RequestFailedException)
        {
            // Taken over after expiry, already gone, or storage is down: the lease ends it in any case.
        }
    }
}
