using Herald.Server.Errors;

namespace Herald.Server.Tests.Errors;

/// <summary>How a request refused for the database's trouble names that trouble.</summary>
public sealed class DatabaseTroubleTests
{
    [Fact]
    public void AServerWithEveryConnectionTaken_IsSaidToHaveNoneLeft_NotToBeUnreachable()
    {
        var full = new Npgsql.PostgresException("sorry, too many clients already", "FATAL", "FATAL", "53300");
        Assert.Equal("it has no connection left for Herald: max_connections, or a CONNECTION LIMIT of the role or the database, is reached",
            ErrorHandlingMiddleware.DatabaseTrouble(new InvalidOperationException("wrapped", full)));
    }

    [Fact]
    public void AServerShuttingDown_IsStillSaidToBeUnreachable()
    {
        var down = new Npgsql.PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01");
        Assert.Equal("it cannot be reached", ErrorHandlingMiddleware.DatabaseTrouble(down));
    }
}
