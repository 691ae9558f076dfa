//! Shapes of Salesforce REST wire bodies shared by the client and the sandbox (error bodies and the like).
