namespace Camelid.Data.Instructions;

/// <summary>
/// One task read from a teacher's answer, in the order written. <see cref="Problem"/> is null for a complete
/// task, else <see cref="DropReason.Unparsable"/> or <see cref="DropReason.Truncated"/> with a <see cref="Detail"/>.
/// </summary>
public sealed record ParsedCandidate(string Instruction, string Input, string Output, string? Problem = null, string? Detail = null);
