using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Options;

namespace RagFunctions.Core.Batches;

/// <summary>
/// Claims on result rows, taken before the model is called so that a question is answered once however often its
/// message is delivered at the same time. A claim is a row inserted if absent next to the result it stands for
/// (<see cref="ClaimEntity"/>), so the result's insert and the claim's delete are one transaction; it expires after <see cref="StorageOptions.ClaimLeaseSeconds"/>, so a delivery after its owner
/// died takes it over, with an ETag-conditional replace that only one taker wins.
/// </summary>
public sealed class BatchRowClaims(BatchStore store, IOptions<StorageOptions> options, TimeProvider time)
{
    private readonly TimeSpan _lease = TimeSpan.FromSeconds(options.Value.ClaimLeaseSeconds);

    /// <summary>The claim, or null while another owner's claim is live (or was just released: the caller looks again).</summary>
    public async Task<ClaimEntity?> TryClaimAsync(string batchId, int index, CancellationToken cancellationToken)
    {
        var rowKey = ClaimEntity.RowKeyOf(index);
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

    /// <summary>Whether another delivery holds a live claim on the question: it is being answered now.</summary>
    public async Task<bool> IsHeldAsync(string batchId, int index, CancellationToken cancellationToken)
    {
        var existing = await store.Claims.GetEntityIfExistsAsync<ClaimEntity>(batchId, ClaimEntity.RowKeyOf(index), cancellationToken: cancellationToken);
        return existing.HasValue && existing.Value is { } held && held.ExpiresAt > time.GetUtcNow();
    }

    /// <summary>
    /// Writes the claimed question's result row, stamped with the claim's owner, and deletes the claim in one transaction
    /// (one round trip where two were); false when another delivery wrote the row first. The claim is released either way.
    /// </summary>
    public async Task<bool> TryAddResultAsync(ClaimEntity claim, BatchResult result, CancellationToken cancellationToken)
    {
        try
        {
            await store.Claims.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.Add, BatchStore.EntityOf(claim.PartitionKey, result, claim.Owner)),
                    new TableTransactionAction(TableTransactionActionType.Delete, claim, claim.ETag),
                ],
                cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException)
        {
            // The row exists (another delivery's, or this one's if the SDK retried a transaction that had committed: the
            // owner's stamp tells them apart), or the claim expired and another delivery took it over. Each on its own,
            // as before the transaction: the row if absent, the claim if still this owner's.
            var added = await store.TryAddResultAsync(claim.PartitionKey, result, claim.Owner, cancellationToken);
            await ReleaseAsync(claim);
            return added;
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
