using Camelid.Data.Conversations;

namespace Camelid.Data.Tests.Conversations;

public class LanguageGuesserTests
{
    [Theory]
    [InlineData("What is the capital of France? It is Paris, and it is a beautiful city.", "en")]
    [InlineData("¿Cuál es la capital de Francia? Es París, una ciudad muy bonita para los turistas.", "es")]
    [InlineData("Quelle est la capitale de la France ? C'est Paris, et vous pouvez la visiter avec plaisir.", "fr")]
    [InlineData("Was ist die Hauptstadt von Frankreich? Das ist Paris, und ich finde sie nicht schlecht.", "de")]
    [InlineData("法国的首都是哪里？是巴黎，一个美丽的城市。", "zh")]
    [InlineData("フランスの首都はどこですか？パリです。", "ja")]
    [InlineData("프랑스의 수도는 어디입니까? 파리입니다.", "ko")]
    [InlineData("Какая столица Франции? Это Париж, красивый город.", "ru")]
    [InlineData("Яка столиця Франції? Це Париж, гарне місто, і я його люблю.", "uk")]
    [InlineData("12345 !!! ???", "unknown")]
    public void Guesses(string text, string expected) => Assert.Equal(expected, LanguageGuesser.Guess(text));

    [Fact]
    public void CodeDoesNotMakeChineseEnglish()
    {
        string text = "请帮我写一个函数，计算列表的和。\n```python\ndef total(values):\n    # return the sum of the values in the list\n    return sum(values)\n```\n这个函数返回列表中所有数的和。";
        Assert.Equal("zh", LanguageGuesser.Guess(text));
    }
}
