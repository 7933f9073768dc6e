namespace Camelid.Evaluation.Judging;

/// <summary>
/// Camelid's own judge prompts: single grades 1–10 as <c>[[N]]</c>, pairwise verdicts <c>[[A]]</c>, <c>[[B]]</c>,
/// <c>[[C]]</c> (tie), each with a reference-guided twin for math, reasoning and coding and a multi-turn twin
/// that shows the whole conversation and grades the last reply. The verdict formats are FastChat's, so judgments
/// read the same either way; the wording is ours.
/// </summary>
public static class BuiltInJudgePrompts
{
    const string GradingSystem =
        "You grade replies written by AI assistants. Be strict, fair and consistent, and never let a reply's length or confident tone stand in for substance.";

    const string ComparingSystem =
        "You compare replies written by AI assistants. Be impartial: the order in which the replies are shown, their length and the assistants' names must not sway you.";

    const string GradingCriteria =
        "Judge how correct, helpful, relevant, complete and clear the reply is, and whether its level of detail suits the request. " +
        "Write a short justification, then give the grade on the last line in exactly this form: [[N]], where N is a whole number " +
        "from 1 (useless or wrong) to 10 (excellent).";

    const string ReferenceGuidance =
        "A reference answer known to be right is included. Check the reply's result against it before anything else: a reply that " +
        "reaches a different result is wrong, however well it is written.";

    const string VerdictRules =
        "Write a short comparison, then give your verdict on the last line in exactly one of these forms: [[A]] if assistant A's reply " +
        "is better, [[B]] if assistant B's reply is better, [[C]] if neither is better.";

    public static readonly JudgePrompt Single = new(
        "camelid-single-v1", JudgeKind.Single, GradingSystem,
        "Grade the AI assistant's reply to the user's request below. " + GradingCriteria +
        "\n\n<request>\n{question}\n</request>\n\n<reply>\n{answer}\n</reply>",
        JudgePrompt.RatingFormat, "Grades one reply from 1 to 10");

    public static readonly JudgePrompt SingleWithReference = new(
        "camelid-single-ref-v1", JudgeKind.Single, GradingSystem,
        "Grade the AI assistant's reply to the user's request below. " + ReferenceGuidance + " " + GradingCriteria +
        "\n\n<request>\n{question}\n</request>\n\n<reference_answer>\n{ref_answer}\n</reference_answer>\n\n<reply>\n{answer}\n</reply>",
        JudgePrompt.RatingFormat, "Grades one reply from 1 to 10 against a reference answer", "math");

    public static readonly JudgePrompt SingleMultiTurn = new(
        "camelid-single-multi-turn-v1", JudgeKind.Single, GradingSystem,
        "Below is a conversation between a user and an AI assistant. Grade only the assistant's last reply, to the user's final " +
        "message; the earlier turns are context it should take into account. " + GradingCriteria +
        "\n\n<conversation>\n{conversation}\n</conversation>",
        JudgePrompt.RatingFormat, "Grades the last reply of a conversation from 1 to 10");

    public static readonly JudgePrompt SingleMultiTurnWithReference = new(
        "camelid-single-ref-multi-turn-v1", JudgeKind.Single, GradingSystem,
        "Below is a conversation between a user and an AI assistant. Grade only the assistant's last reply, to the user's final " +
        "message; the earlier turns are context it should take into account. " + ReferenceGuidance + " " + GradingCriteria +
        "\n\n<conversation>\n{conversation}\n</conversation>\n\n<reference_answer_to_final_message>\n{ref_answer}\n</reference_answer_to_final_message>",
        JudgePrompt.RatingFormat, "Grades the last reply of a conversation from 1 to 10 against a reference answer", "math");

    public static readonly JudgePrompt Pair = new(
        "camelid-pair-v1", JudgeKind.Pairwise, ComparingSystem,
        "Two AI assistants, A and B, replied to the same user request. Decide whose reply is better: more correct, helpful, relevant, " +
        "complete and clear, with detail that suits the request. " + VerdictRules +
        "\n\n<request>\n{question}\n</request>\n\n<reply_a>\n{answer_a}\n</reply_a>\n\n<reply_b>\n{answer_b}\n</reply_b>",
        JudgePrompt.VerdictFormat, "Compares two replies");

    public static readonly JudgePrompt PairWithReference = new(
        "camelid-pair-ref-v1", JudgeKind.Pairwise, ComparingSystem,
        "Two AI assistants, A and B, replied to the same user request. Decide whose reply is better. " + ReferenceGuidance + " " + VerdictRules +
        "\n\n<request>\n{question}\n</request>\n\n<reference_answer>\n{ref_answer}\n</reference_answer>\n\n<reply_a>\n{answer_a}\n</reply_a>\n\n<reply_b>\n{answer_b}\n</reply_b>",
        JudgePrompt.VerdictFormat, "Compares two replies against a reference answer", "math");

    public static readonly JudgePrompt PairMultiTurn = new(
        "camelid-pair-multi-turn-v1", JudgeKind.Pairwise, ComparingSystem,
        "Two AI assistants, A and B, held the same conversation with a user. Compare only their last replies, to the user's final " +
        "message; the earlier turns are context they should take into account. " + VerdictRules +
        "\n\n<conversation_a>\n{conversation_a}\n</conversation_a>\n\n<conversation_b>\n{conversation_b}\n</conversation_b>",
        JudgePrompt.VerdictFormat, "Compares the last replies of two conversations");

    public static readonly JudgePrompt PairMultiTurnWithReference = new(
        "camelid-pair-ref-multi-turn-v1", JudgeKind.Pairwise, ComparingSystem,
        "Two AI assistants, A and B, held the same conversation with a user. Compare only their last replies, to the user's final " +
        "message; the earlier turns are context they should take into account. " + ReferenceGuidance + " " + VerdictRules +
        "\n\n<conversation_a>\n{conversation_a}\n</conversation_a>\n\n<conversation_b>\n{conversation_b}\n</conversation_b>" +
        "\n\n<reference_answer_to_final_message>\n{ref_answer}\n</reference_answer_to_final_message>",
        JudgePrompt.VerdictFormat, "Compares the last replies of two conversations against a reference answer", "math");

    public static IReadOnlyList<JudgePrompt> All =>
        [Single, SingleWithReference, SingleMultiTurn, SingleMultiTurnWithReference, Pair, PairWithReference, PairMultiTurn, PairMultiTurnWithReference];
}
