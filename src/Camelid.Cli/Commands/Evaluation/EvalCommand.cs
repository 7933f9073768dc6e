using System.CommandLine;

namespace Camelid.Cli.Commands.Evaluation;

/// <summary>`camelid eval …`: LLM-as-a-judge evaluation (Vicuna-80, MT-bench) with FastChat's llm_judge files. See docs/evaluation.md.</summary>
static class EvalCommand
{
    public static Command Create()
    {
        var eval = new Command("eval", "Evaluate chat models with an LLM judge (Vicuna-80, MT-bench style): answer, judge, show");
        // One line per subcommand, each defined in its own file in this folder.
        eval.Subcommands.Add(EvalAnswerCommand.Create());
        eval.Subcommands.Add(EvalJudgeCommand.Create());
        eval.Subcommands.Add(EvalShowCommand.Create());
        return eval;
    }
}
