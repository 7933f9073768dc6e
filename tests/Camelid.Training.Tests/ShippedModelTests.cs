using System.Text.Json;
using Camelid.Data.Nano;
using Camelid.Model;
using Camelid.Tests;
using Camelid.Training.Recipes;
using Xunit.Abstractions;

namespace Camelid.Training.Tests;

/// <summary>The committed Camelid-Nano does what its card says: the same held-out prompts, the same per-skill exact match.</summary>
public sealed class ShippedModelTests(ITestOutputHelper output)
{
    [ShippedModelFact]
    public void The_shipped_model_meets_the_accuracy_its_card_claims()
    {
        using var claims = JsonDocument.Parse(File.ReadAllText(ShippedModelFactAttribute.EvaluationPath));
        int seed = claims.RootElement.GetProperty("seed").GetInt32();
        int perSkill = claims.RootElement.GetProperty("held_out_per_skill").GetInt32();
        int maxAnswerTokens = claims.RootElement.GetProperty("max_answer_tokens").GetInt32();
        var claimed = claims.RootElement.GetProperty("fine_tuned").GetProperty("by_skill");

        using var model = LlamaModel.Load(ShippedModelFactAttribute.ModelPath);
        var tokenizer = model.RequireTokenizer();
        var score = NanoEvaluation.Score(NanoRecipe.HeldOut(seed, perSkill), messages => NanoRecipe.GreedyAnswer(model, tokenizer, messages, maxAnswerTokens));
        output.WriteLine(score.Format());
        foreach (var skill in score.Skills)
        {
            double stated = claimed.GetProperty(NanoSkills.Name(skill.Skill)).GetDouble();
            // Greedy decoding of the F16 model: measured exactly as the recipe measured it, so the numbers agree exactly.
            Assert.True(Math.Abs(skill.Accuracy - stated) < 1e-9, $"{NanoSkills.Name(skill.Skill)}: {skill.Accuracy:P1} measured, {stated:P1} claimed");
        }
    }
}
