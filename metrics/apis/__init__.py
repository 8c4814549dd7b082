"""KPI endpoints, one APIView per figure."""
