using Herald.Storage.Postgres;
using Npgsql;

namespace Herald.Storage.Tests.Postgres;

/// <summary>The connection settings a node adds to the operator's connection string, and how the operator overrides them.</summary>
public sealed class PostgresDataSourceTests
{
    private static NpgsqlConnectionStringBuilder Effective(string connectionString)
    {
        using var dataSource = PostgresStore.CreateDataSource(connectionString);
        return new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
    }

    [Fact]
    public void Unless_Told_Otherwise_StatementsArePrepared_AndPooledConnectionsAreNotReset()
    {
        var effective = Effective("Host=db.internal;Username=herald;Database=herald");
        Assert.Equal(64, effective.MaxAutoPrepare);
        Assert.True(effective.NoResetOnClose);
    }

    [Theory]
    [InlineData("Host=db.internal;Max Auto Prepare=0;No Reset On Close=false")]
    [InlineData("Host=db.internal;MaxAutoPrepare=0;NoResetOnClose=false")]
    public void WhatTheConnectionStringSays_Stands(string connectionString)
    {
        // Behind a pooler in transaction mode, for one, prepared statements must stay off.
        var effective = Effective(connectionString);
        Assert.Equal(0, effective.MaxAutoPrepare);
        Assert.False(effective.NoResetOnClose);
    }
}
