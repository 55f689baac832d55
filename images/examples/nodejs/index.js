// The smallest useful handler: greets the event's name and reports what the runtime told it about itself.
exports.handler = async (event, context) => {
  const name = event?.name || 'world';
  return {
    statusCode: 200,
    body: JSON.stringify({
      message: `Hello, ${name}!`,
      functionName: context.functionName,
      requestId: context.awsRequestId,
      remainingTimeInMillis: context.getRemainingTimeInMillis(),
    }),
  };
};
